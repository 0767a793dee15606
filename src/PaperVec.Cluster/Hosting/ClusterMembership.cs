namespace PaperVec.Cluster.Hosting;

/// <summary>
/// How silos and clients find each other. Development: Orleans' localhost clustering, where silo 0
/// holds the membership table in memory (one machine, tests). Redis: Orleans' membership table in
/// a Redis-compatible store the user runs (Redis, Garnet, Valkey), so silos on many machines join
/// and leave in any order and clients find every live gateway there.
/// </summary>
public sealed record ClusterMembership
{
    public static readonly ClusterMembership Development = new();

    /// <summary>A StackExchange.Redis configuration string ("10.0.0.5:6379,password=..."); null for development clustering.</summary>
    public string? RedisConfiguration { get; init; }

    public bool IsDevelopment => RedisConfiguration == null;

    /// <summary>"development" (or empty), or "redis:CONFIGURATION".</summary>
    public static ClusterMembership Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Trim() is "development" or "dev") return Development;
        if (text.StartsWith("redis:", StringComparison.OrdinalIgnoreCase) && text.Length > "redis:".Length)
            return new ClusterMembership { RedisConfiguration = text["redis:".Length..].Trim() };
        if (text.Trim().StartsWith("garnet", StringComparison.OrdinalIgnoreCase))
            throw new FormatException($"membership '{text}' starts a Garnet store and is for `cluster local`; elsewhere name the store: redis:HOST:PORT");
        throw new FormatException($"membership '{text}' is neither 'development' nor 'redis:HOST:PORT'");
    }

    public override string ToString() => IsDevelopment ? "development" : $"redis:{RedisConfiguration}";
}
