using System.Globalization;
using System.Security;
using System.Text;

namespace PaperVec.Cli.Bench;

/// <summary>One line of a chart: a name for the legend and its points in data units.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points);

/// <summary>
/// A plain SVG line chart (axes, ticks, grid, legend), enough for latency curves and time series
/// without a plotting library. X ticks can carry their own labels, so a percentile axis drawn on a
/// log scale of 1 / (1 - q) still reads "99%".
/// </summary>
public sealed class SvgLineChart
{
    const double Width = 720, Height = 360, Left = 70, Right = 20, Top = 40, Bottom = 50;
    static readonly string[] Colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];

    public required string Title { get; init; }
    public required string XLabel { get; init; }
    public required string YLabel { get; init; }
    public required IReadOnlyList<ChartSeries> Series { get; init; }
    /// <summary>X tick positions with labels; null: five even ticks over the data.</summary>
    public IReadOnlyList<(double X, string Label)>? XTicks { get; init; }
    /// <summary>A horizontal dashed line (e.g. the p99 bound), labelled.</summary>
    public (double Y, string Label)? Threshold { get; init; }

    public string Render()
    {
        var points = Series.SelectMany(s => s.Points).ToList();
        double xMin = XTicks?.Min(t => t.X) ?? (points.Count > 0 ? points.Min(p => p.X) : 0);
        double xMax = XTicks?.Max(t => t.X) ?? (points.Count > 0 ? points.Max(p => p.X) : 1);
        if (xMax <= xMin) xMax = xMin + 1;
        double yMax = Math.Max(points.Count > 0 ? points.Max(p => p.Y) : 0, Threshold?.Y ?? 0);
        yMax = NiceCeiling(yMax <= 0 ? 1 : yMax * 1.05);
        double X(double x) => Left + (x - xMin) / (xMax - xMin) * (Width - Left - Right);
        double Y(double y) => Height - Bottom - y / yMax * (Height - Top - Bottom);

        var svg = new StringBuilder();
        svg.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append($"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>\n");
        svg.Append($"<text x=\"{Width / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{Escape(Title)}</text>\n");
        for (int i = 0; i <= 5; i++)
        {
            double y = yMax * i / 5;
            svg.Append($"<line x1=\"{F(Left)}\" y1=\"{F(Y(y))}\" x2=\"{F(Width - Right)}\" y2=\"{F(Y(y))}\" stroke=\"#ddd\"/>");
            svg.Append($"<text x=\"{F(Left - 6)}\" y=\"{F(Y(y) + 4)}\" text-anchor=\"end\">{Escape(Number(y))}</text>\n");
        }
        var xTicks = XTicks ?? Enumerable.Range(0, 6).Select(i => (xMin + (xMax - xMin) * i / 5, Number(xMin + (xMax - xMin) * i / 5))).ToList();
        foreach (var (x, label) in xTicks)
        {
            svg.Append($"<line x1=\"{F(X(x))}\" y1=\"{F(Top)}\" x2=\"{F(X(x))}\" y2=\"{F(Height - Bottom)}\" stroke=\"#eee\"/>");
            svg.Append($"<text x=\"{F(X(x))}\" y=\"{F(Height - Bottom + 16)}\" text-anchor=\"middle\">{Escape(label)}</text>\n");
        }
        svg.Append($"<line x1=\"{F(Left)}\" y1=\"{F(Height - Bottom)}\" x2=\"{F(Width - Right)}\" y2=\"{F(Height - Bottom)}\" stroke=\"black\"/>");
        svg.Append($"<line x1=\"{F(Left)}\" y1=\"{F(Top)}\" x2=\"{F(Left)}\" y2=\"{F(Height - Bottom)}\" stroke=\"black\"/>\n");
        svg.Append($"<text x=\"{F((Left + Width - Right) / 2)}\" y=\"{F(Height - 12)}\" text-anchor=\"middle\">{Escape(XLabel)}</text>\n");
        svg.Append($"<text transform=\"translate(16 {F((Top + Height - Bottom) / 2)}) rotate(-90)\" text-anchor=\"middle\">{Escape(YLabel)}</text>\n");
        if (Threshold is var (ty, tlabel))
        {
            svg.Append($"<line x1=\"{F(Left)}\" y1=\"{F(Y(ty))}\" x2=\"{F(Width - Right)}\" y2=\"{F(Y(ty))}\" stroke=\"#555\" stroke-dasharray=\"6 4\"/>");
            svg.Append($"<text x=\"{F(Width - Right - 4)}\" y=\"{F(Y(ty) - 4)}\" text-anchor=\"end\" fill=\"#555\">{Escape(tlabel)}</text>\n");
        }
        for (int s = 0; s < Series.Count; s++)
        {
            string color = Colors[s % Colors.Length];
            var line = string.Join(" ", Series[s].Points.Select(p => $"{F(X(p.X))},{F(Y(p.Y))}"));
            if (line.Length > 0) svg.Append($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{line}\"/>\n");
            double ly = Top + 6 + 16 * s;
            svg.Append($"<line x1=\"{F(Left + 12)}\" y1=\"{F(ly)}\" x2=\"{F(Left + 32)}\" y2=\"{F(ly)}\" stroke=\"{color}\" stroke-width=\"3\"/>");
            svg.Append($"<text x=\"{F(Left + 38)}\" y=\"{F(ly + 4)}\">{Escape(Series[s].Name)}</text>\n");
        }
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    static double NiceCeiling(double value)
    {
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(value)));
        foreach (double step in new[] { 1, 2, 2.5, 5, 10 })
            if (step * magnitude >= value) return step * magnitude;
        return 10 * magnitude;
    }

    static string Number(double v) => v >= 100 ? v.ToString("0", CultureInfo.InvariantCulture) : v >= 10 ? v.ToString("0.#", CultureInfo.InvariantCulture) : v.ToString("0.##", CultureInfo.InvariantCulture);
    static string F(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);
    static string Escape(string text) => SecurityElement.Escape(text) ?? "";
}
