using System.Diagnostics;

namespace PaperVec.Tests.Faults;

/// <summary>
/// A small tmpfs mounted for one test: a disk that fills (and is freed) on demand, or is remounted
/// read-only. Mounting needs root, which CI has; elsewhere the test fails and says so.
/// </summary>
sealed class Tmpfs : IDisposable
{
    public string Path { get; }
    string Filler => System.IO.Path.Combine(Path, "filler");

    Tmpfs(string path) => Path = path;

    public static Tmpfs Mount(int megabytes)
    {
        Assert.True(Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root",
            "this fault test mounts a tmpfs and needs root (CI runs as root)");
        string path = Directory.CreateTempSubdirectory("pv-tmpfs-").FullName;
        Run("mount", "-t", "tmpfs", "-o", $"size={megabytes}m", "tmpfs", path);
        return new Tmpfs(path);
    }

    /// <summary>Fills the file system until a write fails: every later write meets ENOSPC.</summary>
    public void Fill()
    {
        using var file = new FileStream(Filler, FileMode.Append, FileAccess.Write, FileShare.None, bufferSize: 0);
        var block = new byte[64 * 1024];
        try { while (true) { file.Write(block); file.Flush(); } }
        catch (IOException) { }
        // Partial blocks: fill to the last byte.
        try { while (true) { file.Write(block, 0, 512); file.Flush(); } }
        catch (IOException) { }
    }

    public void Free() => File.Delete(Filler);

    public void RemountReadOnly(bool readOnly) => Run("mount", "-o", readOnly ? "remount,ro" : "remount,rw", Path);

    static void Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var process = Process.Start(start)!;
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)}: {process.StandardError.ReadToEnd()}");
    }

    public void Dispose()
    {
        try { Run("umount", "-l", Path); } catch (Exception) { }
        try { Directory.Delete(Path, true); } catch (IOException) { }
    }
}
