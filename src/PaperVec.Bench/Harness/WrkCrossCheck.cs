using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using PaperVec.Cli.Common;

namespace PaperVec.Bench.Harness;

/// <summary>
/// Runs Debian's wrk (an independent closed-loop generator in C) on GET /papers/{id}/similar with a
/// Lua script rotating through paper ids, and reads its Requests/sec and p99. wrk is a benchmark
/// tool, not a dependency: benchmarks/run-all installs it with apt when missing.
/// </summary>
public static partial class WrkCrossCheck
{
    public static bool Available(out string path)
    {
        path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "wrk")).FirstOrDefault(File.Exists) ?? "";
        return path.Length > 0;
    }

    /// <summary>The Lua script: each request asks for the next id's similar papers.</summary>
    public static string Script(IReadOnlyList<string> ids, int count, int seed)
    {
        var random = new Random(seed);
        var lua = new StringBuilder("local ids = {\n");
        for (int i = 0; i < Math.Min(count, ids.Count); i++) lua.Append("  \"").Append(ids[random.Next(ids.Count)]).Append("\",\n");
        lua.Append("}\nlocal n = 0\nrequest = function()\n  n = n + 1\n  return wrk.format(\"GET\", \"/papers/\" .. ids[(n % #ids) + 1] .. \"/similar?k=10\")\nend\n");
        return lua.ToString();
    }

    public static (double RequestsPerSecond, double? P99Ms) Run(Uri baseUri, IReadOnlyList<string> ids, int connections, int seconds)
    {
        if (!Available(out string wrk)) throw new CliException("wrk is not installed (apt-get install wrk; benchmarks/run-all does it)");
        string script = Path.Combine(Path.GetTempPath(), $"papervec-wrk-{Environment.ProcessId}.lua");
        File.WriteAllText(script, Script(ids, 10_000, 7));
        try
        {
            var start = new ProcessStartInfo(wrk) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in new[] { "-t", Math.Min(2, connections).ToString(CultureInfo.InvariantCulture), "-c", connections.ToString(CultureInfo.InvariantCulture),
                "-d", $"{seconds}s", "--latency", "-s", script, baseUri.ToString() })
                start.ArgumentList.Add(arg);
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0) throw new CliException($"wrk failed (exit {process.ExitCode}): {stderr.Result.Trim()}");
            return Parse(output);
        }
        finally { File.Delete(script); }
    }

    /// <summary>Reads "Requests/sec: N" and the "99% X(us|ms|s)" line of --latency's distribution.</summary>
    public static (double RequestsPerSecond, double? P99Ms) Parse(string output)
    {
        var rate = RateLine().Match(output);
        if (!rate.Success) throw new CliException($"wrk printed no Requests/sec line: {output.Trim()}");
        double? p99 = null;
        if (P99Line().Match(output) is { Success: true } m)
        {
            double value = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            p99 = m.Groups[2].Value switch { "us" => value / 1000, "ms" => value, "s" => value * 1000, _ => value * 60_000 };
        }
        return (double.Parse(rate.Groups[1].Value, CultureInfo.InvariantCulture), p99);
    }

    [GeneratedRegex(@"Requests/sec:\s+([0-9.]+)")]
    private static partial Regex RateLine();

    [GeneratedRegex(@"^\s*99%\s+([0-9.]+)(us|ms|s|m)\s*$", RegexOptions.Multiline)]
    private static partial Regex P99Line();
}
