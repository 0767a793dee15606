using System.Runtime.InteropServices;

namespace PaperVec.Bench.Harness;

/// <summary>One line saying what a figure was measured on: cores, CPU model, memory, OS, .NET; benchmarks here are only comparable on the same.</summary>
public static class MachineDescription
{
    public static string Describe()
    {
        string cpu = ReadField("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString();
        string memory = ReadField("/proc/meminfo", "MemTotal") is { } kb && long.TryParse(kb.Split(' ')[0], out long k) ? $"{k / 1024.0 / 1024:0.0} GiB" : "unknown";
        return $"{Environment.ProcessorCount} cores, {cpu}, {memory} memory, {RuntimeInformation.OSDescription}, .NET {Environment.Version}";
    }

    static string? ReadField(string file, string name)
    {
        if (!File.Exists(file)) return null;
        foreach (var line in File.ReadLines(file))
            if (line.StartsWith(name, StringComparison.Ordinal) && line.IndexOf(':') is int colon and > 0)
                return line[(colon + 1)..].Trim();
        return null;
    }
}
