using System.Diagnostics;
using System.Runtime.InteropServices;

namespace PaperVec.Tests.Faults;

/// <summary>Runs only as root with losetup and mkfs.ext4 (CI runs as root); elsewhere skipped, saying why.</summary>
public sealed class LoopDeviceFactAttribute : FactAttribute
{
    public LoopDeviceFactAttribute()
    {
        if (Environment.UserName != "root" && Environment.GetEnvironmentVariable("USER") != "root")
            Skip = "needs root: it mounts an ext4 file system on a loop device";
        else if (Ext4Loop.Tool("losetup") == null || Ext4Loop.Tool("mkfs.ext4") == null)
            Skip = "needs losetup and mkfs.ext4 (util-linux, e2fsprogs)";
    }
}

/// <summary>
/// An ext4 file system on a loop device, mounted for one test, that can be shut down as a failing disk
/// is (EXT4_IOC_SHUTDOWN: every later I/O on it fails with EIO) and mounted again afterwards. The
/// mount and the loop device are removed in every case.
/// </summary>
sealed partial class Ext4Loop : IDisposable
{
    readonly string _root, _image;
    string? _loop;
    public string Path { get; }

    Ext4Loop(string root)
    {
        _root = root;
        _image = System.IO.Path.Combine(root, "disk.img");
        Path = System.IO.Path.Combine(root, "mnt");
    }

    public static string? Tool(string name) =>
        new[] { "/usr/sbin", "/sbin", "/usr/bin", "/bin" }.Select(d => System.IO.Path.Combine(d, name)).FirstOrDefault(File.Exists);

    public static Ext4Loop Create(int megabytes)
    {
        var disk = new Ext4Loop(Directory.CreateTempSubdirectory("pv-ext4-").FullName);
        try
        {
            Directory.CreateDirectory(disk.Path);
            using (var image = File.Create(disk._image)) image.SetLength((long)megabytes << 20);
            Run("mkfs.ext4", "-q", "-F", disk._image);
            disk._loop = Run("losetup", "-f", "--show", disk._image).Trim();
            disk.Mount();
            return disk;
        }
        catch
        {
            disk.Dispose();
            throw;
        }
    }

    void Mount() => Run("mount", "-t", "ext4", _loop!, Path);

    const uint Ext4IocShutdown = 0x8004587D; // _IOR('X', 125, __u32)
    const uint NoLogFlush = 2;               // EXT4_GOING_FLAGS_NOLOGFLUSH: as if the disk died now

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int Ioctl(int fd, nuint request, ref uint argument);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    /// <summary>Shuts the file system down: from now on every read and write under <see cref="Path"/> fails with EIO.</summary>
    public void ShutDown()
    {
        int fd = Open(Path, 0);
        Assert.True(fd >= 0, $"open {Path}: errno {Marshal.GetLastPInvokeError()}");
        try
        {
            uint flags = NoLogFlush;
            Assert.True(Ioctl(fd, Ext4IocShutdown, ref flags) == 0, $"EXT4_IOC_SHUTDOWN on {Path}: errno {Marshal.GetLastPInvokeError()}");
        }
        finally { Close(fd); }
    }

    /// <summary>Unmounts the shut-down file system and mounts it again (the journal is replayed): the disk "came back".</summary>
    public void Remount()
    {
        Run("umount", Path);
        Mount();
    }

    static string Run(string tool, params string[] args)
    {
        var start = new ProcessStartInfo(Tool(tool) ?? tool, args) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{tool} {string.Join(' ', args)}: {error}");
        return output;
    }

    public void Dispose()
    {
        try { Run("umount", Path); }
        catch (Exception) { try { Run("umount", "-l", Path); } catch (Exception) { } }
        if (_loop != null) try { Run("losetup", "-d", _loop); } catch (Exception) { }
        try { Directory.Delete(_root, true); } catch (IOException) { }
    }
}
