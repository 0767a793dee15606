using System.CommandLine;
using PaperVec.Engine;
using PaperVec.Storage;

namespace PaperVec.Cli.Common.Remote;

/// <summary>
/// Which papers a verb that reads or writes papers works on: the data directory, or, when a running
/// `serve` holds it (its lock is taken; it wrote papervec.server beside the lock) or --server names one,
/// that server. A verb adds the options with <see cref="AddTo"/> and opens with <see cref="OpenAsync"/>.
/// </summary>
static class ServerTarget
{
    public const string ServerOption = "--server";
    public const string ApiKeyOption = "--api-key";
    public const string ApiKeyVariable = "PAPERVEC_API_KEY";

    /// <summary>Adds --server and --api-key to a verb.</summary>
    public static void AddTo(Command command)
    {
        command.Options.Add(new Option<string?>(ServerOption) { Description = "Send the request to this running `papervec serve` (e.g. http://127.0.0.1:5080) instead of opening a data directory; without it a server holding --data's directory is found there" });
        command.Options.Add(new Option<string?>(ApiKeyOption) { Description = $"The server's API key for writes (default ${ApiKeyVariable}, else the key the server left in its data directory)" });
    }

    static string? Value(ParseResult parse, string name) =>
        parse.CommandResult.Command.Options.OfType<Option<string?>>().FirstOrDefault(o => o.Name == name) is { } option ? parse.GetValue(option) : null;

    /// <summary>--server URL, or null.</summary>
    public static string? Server(ParseResult parse) => Value(parse, ServerOption);

    static string? Key(ParseResult parse, ServerAddress? found) =>
        Value(parse, ApiKeyOption) ?? (Environment.GetEnvironmentVariable(ApiKeyVariable) is { Length: > 0 } key ? key : null) ?? found?.Key;

    /// <summary>
    /// The collection a verb works on: --server's, else the data directory's, else (held by a running
    /// serve) that server's. <paramref name="open"/> opens the directory locally.
    /// </summary>
    public static async Task<IPaperCollection> OpenAsync(ParseResult parse, string? data, Func<Task<IPaperCollection>> open)
    {
        if (Server(parse) is { } url)
        {
            if (data != null) throw new UsageException("--data and --server name two places: give one");
            return await RemoteCollection.ConnectAsync(url, Key(parse, null));
        }
        try { return await open(); }
        catch (DataDirectoryInUseException e) { return await ConnectToHolderAsync(parse, data, e); }
    }

    /// <summary>The server holding the directory, from the address it left beside its lock; none there is the in-use error, with what to do.</summary>
    public static async Task<RemoteCollection> ConnectToHolderAsync(ParseResult parse, string? data, DataDirectoryInUseException inUse)
    {
        string root = DataDirectory.Resolve(data);
        var found = Holder(root, inUse);
        return await RemoteCollection.ConnectAsync(found.Url, Key(parse, found), root);
    }

    /// <summary>The address of the server holding <paramref name="root"/>, or the in-use error saying what to do.</summary>
    public static ServerAddress Holder(string root, DataDirectoryInUseException inUse)
    {
        ServerAddress? found;
        try { found = ServerAddressFile.Read(root); }
        catch (InvalidDataException e) { throw new CliException($"{inUse.Message}, and {e.Message}: stop that process, or name the server with --server URL"); }
        catch (UnauthorizedAccessException) { throw new CliException($"{inUse.Message}; its address file {ServerAddressFile.PathIn(root)} is readable only by the user running it: run this as that user, or name the server with --server URL"); }
        return found ?? throw new CliException($"{inUse.Message}, and it is not a server that left its address there (another command still running?): wait for it, or stop it");
    }

    /// <summary>The in-use error of a verb that needs the directory itself (verify, repair, stats --compact): names the server and says to stop it.</summary>
    public static CliException NeedsDirectory(string? data, DataDirectoryInUseException inUse, string verb)
    {
        string root = DataDirectory.Resolve(data);
        ServerAddress? found = null;
        try { found = ServerAddressFile.Read(root); }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException) { }
        return new CliException(found != null
            ? $"data directory {root} is in use by the server at {found.Url}; `papervec {verb}` needs the directory itself: stop the server (Ctrl+C or SIGTERM; it checkpoints and exits) and run it again"
            : $"{inUse.Message}; `papervec {verb}` needs the directory itself: stop that process and run it again");
    }
}
