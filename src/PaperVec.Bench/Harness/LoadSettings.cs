namespace PaperVec.Bench.Harness;

/// <summary>Open loop: requests sent at a fixed rate whatever the server does. Closed loop: N connections, each sending when its last answer came.</summary>
public enum LoadMode { Open, Closed }

/// <summary>How a load run sends: the mode, rate or connections, the mix, the warm-up and the measured duration.</summary>
public sealed record LoadSettings
{
    public LoadMode Mode { get; init; } = LoadMode.Open;
    /// <summary>Open loop: requests per second.</summary>
    public double Rate { get; init; } = 1000;
    /// <summary>Closed loop: concurrent requests; open loop: the most connections HttpClient opens.</summary>
    public int Connections { get; init; } = 32;
    public required RouteMix Mix { get; init; }
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>How long to wait for the answers still out after the last send before counting them as failed.</summary>
    public TimeSpan Drain { get; init; } = TimeSpan.FromSeconds(30);
    public int Seed { get; init; } = 1;
}
