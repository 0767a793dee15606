using System.Globalization;
using ScottPlot;

namespace PaperVec.Bench.Harness;

/// <summary>One line of a chart: a name for the legend and its points in data units.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points);

/// <summary>
/// The bench reports' charts, drawn by ScottPlot and saved as PNG and SVG. Text needs a font:
/// ScottPlot asks fontconfig (on Debian, fonts-dejavu-core, which run-tests installs); without one
/// the lines are still drawn and the labels left out.
/// </summary>
public static class BenchCharts
{
    public const int Width = 800, Height = 420;

    /// <summary>
    /// Latency against percentile, one line per series; the x axis is log10(1 / (1 - q)), so the tail
    /// gets room, with ticks labelled "90%", "99%", ...
    /// </summary>
    public static Plot LatencyByPercentile(string title, IReadOnlyList<(string Name, Func<double, double> LatencyMsAt)> series)
    {
        static double X(double q) => Math.Log10(1 / (1 - q));
        double[] quantiles = [.. Enumerable.Range(0, 400).Select(i => 1 - Math.Pow(10, -4.0 * i / 399)).Where(q => q <= 0.9999)];
        var plot = NewPlot(title, "percentile", "latency (ms)");
        foreach (var (name, at) in series)
            Line(plot, name, [.. quantiles.Select(X)], [.. quantiles.Select(at)]);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [X(0), X(0.9), X(0.99), X(0.999), X(0.9999)], ["0%", "90%", "99%", "99.9%", "99.99%"]);
        plot.Axes.SetLimitsX(0, X(0.9999));
        plot.Axes.SetLimitsY(0, Math.Max(1e-3, series.Count == 0 ? 1 : series.Max(s => s.LatencyMsAt(0.9999))) * 1.05);
        return plot;
    }

    /// <summary>
    /// Throughput per second of the window (left axis) and p99 of each second's answers (right
    /// axis), with the target rate and the p99 bound as dashed lines when given.
    /// </summary>
    public static Plot ThroughputAndP99(string title, IReadOnlyList<SecondSummary> timeline, double? targetRate, double? boundMs)
    {
        var plot = NewPlot(title, "second of the measured window", "requests/s");
        double[] seconds = [.. timeline.Select(t => (double)t.Second)];
        Line(plot, "requests/s", seconds, [.. timeline.Select(t => (double)t.Requests)]);
        var p99 = Line(plot, "p99 (ms, right axis)", seconds, [.. timeline.Select(t => t.P99Ms)]);
        p99.Axes.YAxis = plot.Axes.Right;
        plot.Axes.Right.Label.Text = "p99 (ms)";
        if (targetRate is { } rate) Threshold(plot, rate, $"target {rate.ToString("0.#", CultureInfo.InvariantCulture)}/s", plot.Axes.Left);
        if (boundMs is { } bound) Threshold(plot, bound, $"p99 bound {bound.ToString("0.###", CultureInfo.InvariantCulture)} ms", plot.Axes.Right);
        plot.Axes.AutoScale();
        plot.Axes.SetLimitsY(0, Math.Max(1, Math.Max(timeline.Count == 0 ? 0 : timeline.Max(t => t.Requests), targetRate ?? 0)) * 1.1, plot.Axes.Left);
        plot.Axes.SetLimitsY(0, Math.Max(1e-3, Math.Max(timeline.Count == 0 ? 0 : timeline.Max(t => t.P99Ms), boundMs ?? 0)) * 1.1, plot.Axes.Right);
        return plot;
    }

    /// <summary>A single series over time (e.g. p99 per second), with an optional dashed threshold.</summary>
    public static Plot OverTime(string title, string yLabel, ChartSeries series, (double Y, string Label)? threshold = null)
    {
        var plot = NewPlot(title, "second of the measured window", yLabel);
        Line(plot, series.Name, [.. series.Points.Select(p => p.X)], [.. series.Points.Select(p => p.Y)]);
        if (threshold is var (y, label)) Threshold(plot, y, label, plot.Axes.Left);
        plot.Axes.AutoScale();
        plot.Axes.SetLimitsY(0, Math.Max(1e-3, Math.Max(series.Points.Count == 0 ? 0 : series.Points.Max(p => p.Y), threshold?.Y ?? 0)) * 1.1);
        return plot;
    }

    /// <summary>Recall on x, single-thread QPS on a log y axis, one labelled point per ef; <paramref name="title"/> names the data in the legend.</summary>
    public static Plot RecallVsQps(string title, int k, IReadOnlyList<(int Ef, double Recall, double Qps)> points)
    {
        var plot = NewPlot($"HNSW recall@{k} vs single-thread QPS", $"recall@{k}", "queries per second (log10)");
        var ordered = points.OrderBy(p => p.Recall).ToList();
        double[] xs = [.. ordered.Select(p => p.Recall)], ys = [.. ordered.Select(p => Math.Log10(Math.Max(1, p.Qps)))];
        var line = plot.Add.Scatter(xs, ys);
        line.LegendText = title;
        line.MarkerSize = 7;
        line.LineWidth = 2;
        foreach (var (p, y) in ordered.Zip(ys))
        {
            var text = plot.Add.Text($"ef={p.Ef}", p.Recall, y);
            text.LabelFontSize = 12;
            text.OffsetX = 6;
            text.OffsetY = -18;
        }
        // Log axis: ticks at powers of ten labelled with the QPS they stand for.
        double low = Math.Floor(ys.DefaultIfEmpty(0).Min()), high = Math.Ceiling(ys.DefaultIfEmpty(1).Max());
        if (high <= low) high = low + 1;
        var ticks = new List<(double, string)>();
        for (double e = low; e <= high; e += 0.5)
            ticks.Add((e, Math.Pow(10, e).ToString("N0", CultureInfo.InvariantCulture)));
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. ticks.Select(t => t.Item1)], [.. ticks.Select(t => t.Item2)]);
        double minRecall = Math.Floor(Math.Min(xs.DefaultIfEmpty(1).Min(), 0.9) * 20) / 20;
        plot.Axes.SetLimits(minRecall, 1.0 + (1.0 - minRecall) * 0.1, low, high); // room right of 1.0 for the ef labels
        return plot;
    }

    /// <summary>Saves <paramref name="plot"/> as PATH.png and PATH.svg (PATH without an extension); returns both files.</summary>
    public static IReadOnlyList<string> Save(Plot plot, string pathWithoutExtension)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(pathWithoutExtension))!);
        string png = pathWithoutExtension + ".png", svg = pathWithoutExtension + ".svg";
        plot.SavePng(png, Width, Height);
        File.WriteAllText(svg, Svg(plot));
        return [png, svg];
    }

    public static string Svg(Plot plot) => plot.GetSvgXml(Width, Height);

    public static byte[] Png(Plot plot) => plot.GetImageBytes(Width, Height, ImageFormat.Png);

    static Plot NewPlot(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.Legend.IsVisible = true;
        plot.Legend.Alignment = Alignment.UpperLeft;
        return plot;
    }

    static ScottPlot.Plottables.Scatter Line(Plot plot, string name, double[] xs, double[] ys)
    {
        var line = plot.Add.ScatterLine(xs, ys);
        line.LegendText = name;
        line.LineWidth = 2;
        return line;
    }

    static void Threshold(Plot plot, double y, string label, IYAxis axis)
    {
        var line = plot.Add.HorizontalLine(y);
        line.LinePattern = LinePattern.Dashed;
        line.Color = Colors.Gray;
        line.LegendText = label;
        line.Axes.YAxis = axis;
    }
}
