namespace PaperVec.Cli.Common;

/// <summary>The command line asked for something impossible (exit 2).</summary>
public sealed class UsageException(string message) : CliException(message);
