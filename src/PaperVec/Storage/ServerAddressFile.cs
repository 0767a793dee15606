using System.Text.Json;

namespace PaperVec.Storage;

/// <summary>Where a running `serve` answers, and the key its writes need (null: none).</summary>
public sealed record ServerAddress(string Url, string? Key);

/// <summary>
/// papervec.server beside papervec.lock: `serve` writes where it listens (and its API key) once it
/// listens and removes it on a clean stop, so the command line, finding the directory locked, can
/// send its request there. Owner-only (0600): it holds the key. A server killed by SIGKILL leaves it
/// behind; the lock then is free, so a local open (<see cref="DataDirectory.Open"/>) removes it and
/// no one trusts it.
/// </summary>
public static class ServerAddressFile
{
    public const string FileName = "papervec.server";
    const int MaxBytes = 4096;

    public static string PathIn(string root) => Path.Combine(root, FileName);

    /// <summary>Written whole (a temporary file renamed into place), never readable by others.</summary>
    public static void Write(string root, ServerAddress address)
    {
        string path = PathIn(root), temp = path + ".tmp";
        var bytes = JsonSerializer.SerializeToUtf8Bytes(new Stored(1, address.Url, address.Key), JsonSerializerOptions.Web);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var file = new FileStream(temp, options))
        {
            // Create keeps an existing file's mode: a leftover temporary file must not stay readable by others.
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(file.SafeFileHandle, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            file.Write(bytes);
            file.Flush(true);
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The address, or null when there is no file; a file that is not one (damaged, too large, not an http URL) is an <see cref="InvalidDataException"/>.</summary>
    public static ServerAddress? Read(string root)
    {
        string path = PathIn(root);
        byte[] bytes;
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            if (file.Length > MaxBytes) throw new InvalidDataException($"{path} is {file.Length} bytes, not a server address");
            bytes = new byte[file.Length];
            file.ReadExactly(bytes);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return null; }
        Stored? stored;
        try { stored = JsonSerializer.Deserialize<Stored>(bytes, Strict); }
        catch (JsonException e) { throw new InvalidDataException($"{path} is not a server address ({e.Message.Split('\n')[0]})", e); }
        if (stored is not { Version: 1, Url: { } url } || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new InvalidDataException($"{path} is not a server address (version 1 with an http URL)");
        return new ServerAddress(url, string.IsNullOrEmpty(stored.Key) ? null : stored.Key);
    }

    /// <summary>Removes the file if there is one (a clean stop; a stale file found while holding the lock).</summary>
    public static void Delete(string root)
    {
        try { File.Delete(PathIn(root)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    static readonly JsonSerializerOptions Strict = new(JsonSerializerDefaults.Web) { UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow };

    sealed record Stored(int Version, string? Url, string? Key);
}
