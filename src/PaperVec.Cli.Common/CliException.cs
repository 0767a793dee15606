namespace PaperVec.Cli;

/// <summary>A failure whose message is the whole story for the user (exit 1).</summary>
public class CliException(string message) : Exception(message);

/// <summary>The command line asked for something impossible (exit 2).</summary>
public sealed class UsageException(string message) : CliException(message);
