using System.Security.Cryptography;
using System.Text;

namespace PaperVec.Api.Security;

/// <summary>
/// Write endpoints ask for the X-Api-Key header when a key is configured (always the case when the
/// server listens beyond loopback: it refuses to start otherwise). Keys are compared as SHA-256
/// digests in constant time, so neither the content nor the length of the key leaks through timing.
/// </summary>
public sealed class ApiKeyFilter(ApiKey key) : IEndpointFilter
{
    public const string Header = "X-Api-Key";

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (!key.IsRequired) return next(context);
        string? given = context.HttpContext.Request.Headers[Header];
        if (given == null)
            return ValueTask.FromResult<object?>(TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized,
                detail: $"this server needs an API key for writes: send it in the {Header} header"));
        if (!key.Matches(given))
            return ValueTask.FromResult<object?>(TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, detail: $"the {Header} header does not hold this server's API key"));
        return next(context);
    }
}

/// <summary>The API key writes need, or none.</summary>
public sealed class ApiKey(string? key)
{
    readonly byte[]? _digest = string.IsNullOrEmpty(key) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(key));

    public bool IsRequired => _digest != null;

    public bool Matches(string given) =>
        _digest != null && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), _digest);
}

public static class ApiKeyEndpoints
{
    /// <summary>Marks a write endpoint: it runs only with the right X-Api-Key when a key is configured.</summary>
    public static RouteHandlerBuilder RequireApiKey(this RouteHandlerBuilder endpoint) =>
        endpoint.AddEndpointFilter<ApiKeyFilter>()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
}
