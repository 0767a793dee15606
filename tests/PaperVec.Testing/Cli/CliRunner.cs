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
            // Off the test's synchronization context, so the command's awaits never wait for this blocked thread.
            int exit = Task.Run(() => PaperVec.Cli.Program.RunAsync(args, stdout, stderr)).GetAwaiter().GetResult();
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
