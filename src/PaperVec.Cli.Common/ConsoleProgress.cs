using System.Diagnostics;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace PaperVec.Cli.Common;

/// <summary>
/// Progress of long work on stderr with rate and ETA: a Spectre.Console progress bar on an
/// interactive terminal (redrawn by its own thread, so callers only report counts), plain periodic
/// lines (every few seconds) when stderr is redirected, as in CI logs and pipes.
/// </summary>
public sealed class ConsoleProgress(string label, long total, string unit, TextWriter? writer = null) : IDisposable
{
    readonly TextWriter _writer = writer ?? Console.Error;
    readonly bool _interactive = writer == null && !Console.IsErrorRedirected;
    readonly Stopwatch _clock = Stopwatch.StartNew();
    readonly ManualResetEventSlim _finished = new();
    Thread? _renderer;
    double _lastPrintSeconds = double.NegativeInfinity;
    long _done;

    public bool Enabled { get; init; } = true;

    public void Report(long done)
    {
        Interlocked.Exchange(ref _done, done);
        if (!Enabled) return;
        if (_interactive)
        {
            if (_renderer == null) StartBar();
            return;
        }
        double now = _clock.Elapsed.TotalSeconds;
        if (now - _lastPrintSeconds < 5 && done < total) return;
        _lastPrintSeconds = now;
        double rate = done / Math.Max(now, 1e-9);
        string eta = rate > 0 && done < total ? $", ETA {TimeSpan.FromSeconds(Math.Min((total - done) / rate, 359999)):hh\\:mm\\:ss}" : "";
        _writer.WriteLine($"{label}: {done}/{total} ({100.0 * done / Math.Max(total, 1):0}%), {rate:0.0} {unit}/s{eta}");
    }

    void StartBar()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        var progress = console.Progress().AutoClear(false).HideCompleted(false).Columns(
            new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new CountColumn(total, unit), new RateColumn(unit), new RemainingTimeColumn());
        _renderer = new Thread(() => progress.Start(context =>
        {
            var task = context.AddTask(Markup.Escape(label), maxValue: Math.Max(total, 1));
            do task.Value = Interlocked.Read(ref _done);
            while (!_finished.Wait(100));
            task.Value = Interlocked.Read(ref _done);
            context.Refresh();
        })) { IsBackground = true, Name = "papervec-progress" };
        _renderer.Start();
    }

    public void Dispose()
    {
        _finished.Set();
        _renderer?.Join();
        if (Enabled && !_interactive && Interlocked.Read(ref _done) < total) Report(Interlocked.Read(ref _done));
        _finished.Dispose();
    }

    sealed class CountColumn(long total, string unit) : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text($"{(long)task.Value}/{total} {unit}");
    }

    sealed class RateColumn(string unit) : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text($"{task.Speed ?? 0:0.0} {unit}/s");
    }
}
