using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace PaperVec.Tests.Api;

/// <summary>`papervec serve` as a real child process (the built CLI run with dotnet) on a free loopback port.</summary>
sealed partial class ServeProcess : IDisposable
{
    readonly Process _process;
    readonly StringBuilder _output = new();

    public string BaseUrl { get; }
    public HttpClient Client { get; }
    public string Output { get { lock (_output) return _output.ToString(); } }

    ServeProcess(Process process, string baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
        Client = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <param name="environment">Extra variables (null removes one); <paramref name="workingDirectory"/> where appsettings.json is looked for.</param>
    public static ServeProcess Start(string dataPath, IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null, params string[] extraArgs) =>
        Start([Path.Combine(AppContext.BaseDirectory, "PaperVec.Cli.dll")], dataPath, environment, workingDirectory, extraArgs);

    /// <summary>`papervec serve` through the test-only host (tests/PaperVec.CrashHost) with <paramref name="hook"/> armed, e.g. "fail-device-when:PATH".</summary>
    public static ServeProcess StartWithHook(string hook, string dataPath) =>
        Start([Path.Combine(AppContext.BaseDirectory, "PaperVec.CrashHost.dll"), hook], dataPath, null, null, []);

    static ServeProcess Start(string[] host, string dataPath, IReadOnlyDictionary<string, string?>? environment, string? workingDirectory, string[] extraArgs)
    {
        string url = $"http://127.0.0.1:{FreePort()}";
        var start = new ProcessStartInfo("dotnet", [.. host, "serve", "--data", dataPath, "--urls", url, .. extraArgs])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
            if (value == null) start.Environment.Remove(name); else start.Environment[name] = value;
        start.Environment["PAPERVEC_MODEL_DIR"] = RepoPaths.ModelDir;
        start.Environment.Remove("PAPERVEC_API_KEY");
        var serve = new ServeProcess(Process.Start(start)!, url);
        serve._process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (serve._output) serve._output.AppendLine(e.Data); };
        serve._process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (serve._output) serve._output.AppendLine(e.Data); };
        serve._process.BeginOutputReadLine();
        serve._process.BeginErrorReadLine();
        return serve;
    }

    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Polls GET /ready until it answers 200; fails with the server's output if the process exits or a minute passes.</summary>
    public async Task WaitUntilReadyAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(_process.HasExited, $"papervec serve exited with {(_process.HasExited ? _process.ExitCode : 0)}: {Output}");
            try
            {
                if ((await Client.GetAsync("/ready")).StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException) { } // not listening yet
            await Task.Delay(100);
        }
        Assert.Fail($"papervec serve was not ready within a minute: {Output}");
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    public void SendSigterm() => Assert.Equal(0, Kill(_process.Id, 15));

    /// <summary>kill -9: no shutdown, no checkpoint.</summary>
    public void SendSigkill()
    {
        Assert.Equal(0, Kill(_process.Id, 9));
        _process.WaitForExit();
    }

    public bool HasExited => _process.HasExited;

    public int WaitForExit(TimeSpan timeout)
    {
        Assert.True(_process.WaitForExit(timeout), $"papervec serve did not exit: {Output}");
        _process.WaitForExit(); // drains the output readers
        return _process.ExitCode;
    }

    public void Dispose()
    {
        Client.Dispose();
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}
