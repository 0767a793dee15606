using System.Diagnostics;

namespace PaperVec.Cli;

/// <summary>
/// Progress of long work on stderr with rate and ETA: a line redrawn in place on an interactive
/// terminal, plain periodic lines (every few seconds) when stderr is redirected.
/// </summary>
public sealed class ConsoleProgress(string label, long total, string unit, TextWriter? writer = null) : IDisposable
{
    readonly TextWriter _writer = writer ?? Console.Error;
    readonly bool _interactive = writer == null && !Console.IsErrorRedirected;
    readonly Stopwatch _clock = Stopwatch.StartNew();
    double _lastPrintSeconds = double.NegativeInfinity;
    long _done;

    public bool Enabled { get; init; } = true;

    public void Report(long done)
    {
        _done = done;
        double now = _clock.Elapsed.TotalSeconds;
        if (!Enabled || now - _lastPrintSeconds < (_interactive ? 0.2 : 5) && done < total) return;
        _lastPrintSeconds = now;
        double rate = done / Math.Max(now, 1e-9);
        string eta = rate > 0 && done < total ? $", ETA {TimeSpan.FromSeconds(Math.Min((total - done) / rate, 359999)):hh\\:mm\\:ss}" : "";
        string line = $"{label}: {done}/{total} ({100.0 * done / Math.Max(total, 1):0}%), {rate:0.0} {unit}/s{eta}";
        if (_interactive) _writer.Write($"\r{Bar(done)} {line}\u001b[K");
        else _writer.WriteLine(line);
    }

    string Bar(long done)
    {
        int width = 24, filled = (int)(width * done / Math.Max(total, 1));
        return "[" + new string('#', filled) + new string('.', width - filled) + "]";
    }

    public void Dispose()
    {
        if (!Enabled) return;
        if (_done < total) Report(_done);
        if (_interactive) _writer.WriteLine();
    }
}
