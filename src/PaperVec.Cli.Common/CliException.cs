namespace PaperVec.Cli.Common;

/// <summary>A failure whose message is the whole story for the user (exit 1).</summary>
public class CliException(string message) : Exception(message);
