using System.CommandLine;
using PaperVec.Bench.Commands;
using PaperVec.Cli.Commands;
using PaperVec.Cli.Common;

namespace PaperVec.Cli;

/// <summary>
/// `papervec`: exit 0 on success, 1 on failure (one line on stderr, the stack trace only with
/// --verbose), 2 on bad usage.
/// </summary>
public static class Program
{
    public static readonly Option<bool> Verbose = new("--verbose") { Description = "Show stack traces of errors", Recursive = true };

    public static Task<int> Main(string[] args) => RunAsync(args, Console.Out, Console.Error);

    /// <param name="storage">
    /// What `ingest` and `serve` open their database with, besides what their flags set: the defaults, or
    /// (tests/PaperVec.CrashHost) a device that fails on demand and a checkpoint step to die at.
    /// </param>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, PaperVec.Storage.PaperDatabaseOptions? storage = null)
    {
        storage ??= new PaperVec.Storage.PaperDatabaseOptions();
        // A plain command named "papervec" (what users type; the assembly is PaperVec.Cli), with the
        // help and version options a RootCommand would add.
        var root = new Command("papervec", "PaperVec: semantic search over research-paper abstracts")
        {
            new System.CommandLine.Help.HelpOption(),
            new VersionOption(),
            ServeCommand.Create(storage),
            ModelCommands.Create(),
            EmbedCommand.Create(),
            IngestCommand.Create(storage),
            SearchCommand.Create(),
            SearchCommand.CreateSimilar(),
            RecommendCommands.Recommend(),
            RecommendCommands.Rank(),
            RecommendCommands.Library(),
            DupesCommand.Create(),
            DigestsCommand.Create(storage),
            StatsCommand.Create(),
            VerifyCommands.CreateVerify(),
            VerifyCommands.CreateRepair(),
            EvalCommands.Create(),
            BenchCommands.Create(),
            ClusterCommands.Silo(),
            ClusterCommands.Cluster(),
        };
        root.Options.Add(Verbose);
        CommandLineRules.Apply(root);

        ParseResult parsed;
        try { parsed = root.Parse(args); }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException)
        {
            // A last guard: a value no parser foresaw is still bad usage in one line, never a stack trace.
            stderr.WriteLine($"papervec: {e.Message.Split('\n')[0].Trim()} (see 'papervec --help')");
            return 2;
        }
        if (CommandLineRules.Describe(parsed) is { } usage)
        {
            // One line: the first error names the flag and the form it wants; the rest usually follow from it.
            stderr.WriteLine(usage); // starts with the verb: "papervec search: --k ..."
            return 2;
        }
        try
        {
            // ProcessTerminationTimeout null: System.CommandLine would otherwise answer SIGTERM/Ctrl+C for
            // async actions and end the process after 2 s, cutting `serve`'s drain and final checkpoint short.
            return await parsed.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
        }
        catch (Exception e)
        {
            var reason = e is CliException or FileNotFoundException or InvalidDataException or IOException or UnauthorizedAccessException
                or Embedding.EmbeddingDeviceException or ArgumentException or InvalidOperationException or KeyNotFoundException
                ? e.Message : $"{e.GetType().Name}: {e.Message}";
            stderr.WriteLine($"papervec: {reason.Split('\n')[0].Trim()}");
            if (parsed.GetValue(Verbose)) stderr.WriteLine(e);
            return e is UsageException ? 2 : 1;
        }
    }
}
