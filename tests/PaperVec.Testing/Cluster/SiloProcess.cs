using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using PaperVec.Cluster;
using PaperVec.Cluster.Hosting;
using PaperVec.Cluster.Shards;

namespace PaperVec.Tests.Cluster;

/// <summary>`papervec silo` as a real child process: started, killed with SIGKILL, started again.</summary>
sealed class SiloProcess(string root, int index, ClusterLayout layout, ClusterEndpoints endpoints, ClusterMembership membership) : IDisposable
{
    Process? _process;
    readonly StringBuilder _output = new();

    public string Output { get { lock (_output) return _output.ToString(); } }

    public void Start()
    {
        var start = new ProcessStartInfo("dotnet",
        [
            Path.Combine(AppContext.BaseDirectory, "PaperVec.Cli.dll"), "silo", "--data", Path.Combine(root, ClusterLayout.SiloName(index)),
            "--silo", $"{index}", "--silos", $"{layout.Silos}", "--shards", $"{layout.Shards}", "--replicas", $"{layout.Replicas}",
            "--silo-port-base", $"{endpoints.SiloPortBase}", "--gateway-port-base", $"{endpoints.GatewayPortBase}", "--membership", $"{membership}",
        ])
        { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Waits until the silo's gateway accepts connections (it has joined the cluster).</summary>
    public async Task WaitForGatewayAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (_process!.HasExited) throw new InvalidOperationException($"silo {index} exited with {_process.ExitCode}:\n{Output}");
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try { await socket.ConnectAsync(System.Net.IPAddress.Loopback, endpoints.GatewayPort(index)); return; }
            catch (SocketException) { await Task.Delay(250); }
        }
        throw new TimeoutException($"silo {index} did not open its gateway in 90 s:\n{Output}");
    }

    /// <summary>SIGSTOP: the process stays alive (its sockets open, its connections established) but answers nothing.</summary>
    public void Pause() => Signal(19);

    /// <summary>SIGCONT after <see cref="Pause"/>.</summary>
    public void Resume() => Signal(18);

    void Signal(int signal)
    {
        if (_process is not { HasExited: false } process) throw new InvalidOperationException($"silo {index} is not running");
        if (kill(process.Id, signal) != 0) throw new InvalidOperationException($"kill({process.Id}, {signal}) failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int signal);

    /// <summary>SIGKILL: no shutdown, no checkpoint.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false }) { _process.Kill(); _process.WaitForExit(); }
    }

    public void Dispose()
    {
        Kill();
        _process?.Dispose();
    }
}
