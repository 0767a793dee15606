namespace PaperVec.Tests.Cli;

/// <summary>Runs the command line in-process and captures what it prints.</summary>
static class CliRunner
{
    static readonly SemaphoreSlim ConsoleLock = new(1, 1);

    public static (int Exit, string Out, string Err) Run(params string[] args)
    {
        ConsoleLock.Wait();
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        try
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
            Environment.SetEnvironmentVariable("PAPERVEC_MODEL_DIR", RepoPaths.ModelDir);
            int exit = PaperVec.Cli.Program.Run(args, stdout, stderr);
            return (exit, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
            ConsoleLock.Release();
        }
    }
}
