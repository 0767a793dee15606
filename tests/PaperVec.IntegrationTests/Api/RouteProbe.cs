using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace PaperVec.Tests.Api;

/// <summary>
/// A property over every route's parameters (issue 26 item 10), run against one node's server and
/// `serve --cluster` alike: a seeded generator builds requests in which one parameter takes an odd
/// value (empty, whitespace, NaN, Infinity, negative, 0, huge, overflow, non-ISO dates, names with a
/// newline, %2F, long strings, unicode, the same paper under two ids...) and the others valid ones.
/// Whatever the value: never a 5xx. An out-of-range value: a 4xx whose problem detail names the
/// parameter. An in-range value: success (or 404 for a well-formed id nothing has).
/// </summary>
static class RouteProbe
{
    public enum Expect { Ok, Refused, NotFound }

    /// <summary>A parameter's value (null: left out) and what the server must answer to it; <see cref="Json"/>: written into a body as is.</summary>
    public sealed record Value(string? Text, Expect Expect, bool Json = false);

    /// <summary>What the probe needs stored: P (with an arXiv-style record id) liked in <see cref="Library"/>; Q another paper; a digest.</summary>
    public sealed record Known(string P, string PSource, string Q, string Digest, string Library);

    sealed record Case(string Method, string Url, string? Body, Expect Expect, string Parameter, string NamePattern);

    static Value Ok(string? text) => new(text, Expect.Ok);
    static Value Bad(string? text) => new(text, Expect.Refused);
    static Value Missing(string? text) => new(text, Expect.NotFound);
    static Value OkJson(string json) => new(json, Expect.Ok, true);
    static Value BadJson(string json) => new(json, Expect.Refused, true);
    static Value MissingJson(string json) => new(json, Expect.NotFound, true);

    // An empty query value is the value left out, for every parameter (a form sends "k=" for an empty field).
    static readonly Value[] Ks = [Ok(null), Ok(""), Ok("1"), Ok("10"), Ok("1000"), Bad(" "), Bad("0"), Bad("-1"), Bad("1001"), Bad("abc"), Bad("NaN"),
        Bad("Infinity"), Bad("1e3"), Bad("2147483648"), Bad("99999999999999999999"), Bad(" 5"), Bad("5\n"), Bad("1.5"), Bad("+5"), Bad("５"), Bad("0x10")];
    static readonly Value[] Diversities = [Ok(null), Ok(""), Ok("0"), Ok("0.5"), Ok("1"), Ok(".25"), Bad("-0.1"), Bad("1.0001"), Bad("NaN"), Bad("Infinity"),
        Bad("-Infinity"), Bad("abc"), Bad("1e-3"), Bad(" 0.5"), Bad("0,5"), Bad("2"), Bad("1e400"), Bad("-0")];
    static readonly Value[] BadDates = [Bad("12/03/2025"), Bad("2025-13-01"), Bad("2025-02-30"), Bad("2025-3-4"), Bad("20250311"), Bad("2025-03-11T00:00:00"),
        Bad(" 2025-03-11"), Bad("2025-03-11\n"), Bad("２０２５-03-11"), Bad("10000-01-01"), Bad("-2025-01-01"), Bad("2025-03-11/"), Bad("yesterday")];
    // Valid from dates are before every valid to date, so no combination of valid values is an empty range.
    static readonly Value[] Froms = [Ok(null), Ok(""), Ok("2024-01-01"), Ok("2025-03-11"), .. BadDates];
    static readonly Value[] Tos = [Ok(null), Ok(""), Ok("2025-03-12"), Ok("2026-12-31"), .. BadDates];
    static readonly Value[] Modes = [Ok(null), Ok(""), Ok("hybrid"), Ok("semantic"), Ok("lexical"), Ok("LEXICAL"), Ok(" semantic "), Bad("fuzzy"), Bad("0"),
        Bad("1"), Bad("+1"), Bad("-0"), Bad("hybrid,semantic"), Bad("lexical, hybrid"), Bad("bm25"), Bad("semantic\0")];
    static readonly Value[] Texts = [Ok("robot grasping"), Ok("graph neural networks"), Ok("Überblick über Graphen 图神经网络 😀"), Ok("a"), Ok("%2F"), Ok("NaN"),
        Ok(new string('x', 5000)), Bad(null), Bad(""), Bad("   "), Bad("\n\t")];
    static readonly Value[] Years = [Ok(null), Ok(""), Ok("2025"), Ok("1995"), Ok("2100"), Bad("1989"), Bad("2101"), Bad("25"), Bad("0"), Bad("-2025"), Bad("abc"),
        Bad("２０２５"), Bad("2025.0"), Bad("99999999999")];
    static readonly Value[] DigestNames = [Ok(null), Ok("probe"), Ok("probe feed"), Ok("  "), Ok("日報"), Ok("a/b"), Bad("a\nb"), Bad(new string('n', 201)), Bad("a\u0001")];
    static readonly Value[] BadLibraryNames = [Bad("a\n"), Bad("a "), Bad(" "), Bad("a.b"), Bad("ñ"), Bad(new string('l', 65)), Bad("a%b"), Bad("a/b"), Bad("$"), Bad("a\r\n")]; // "a\0": the test client refuses a NUL in a path (in queries and bodies below)
    static readonly Value[] OddIds = [Missing("0123456789abcdef"), Missing("nosuch"), Missing("论文"), Missing(new string('i', 3000)), Missing("a b"), Missing("a\n"),
        Missing("%"), Missing("/"), Missing("%2F"), Missing("2503.99999v3"), Missing("arXiv:"), Missing("https://arxiv.org/abs/"), Missing("NaN"), Missing("-1")];
    static readonly Value[] OddDigests = [Missing("2025-03-12/nope"), Missing("daily-papers-mar-12"), Missing(new string('d', 2000)), Missing("日報"), Missing("2025-03-12/"),
        Missing("%2F"), Missing("2025-03-12\n/daily-papers-mar-12")];

    static string JsonString(string? text) => text == null ? "null" : JsonSerializer.Serialize(text);
    static Value AsJson(Value v) => v.Json ? v : v.Text == null ? v : v with { Text = JsonString(v.Text), Json = true };

    /// <summary>Runs <paramref name="cases"/> seeded cases; returns one line per case that broke the property.</summary>
    public static async Task<List<string>> RunAsync(HttpClient http, Known known, int seed, int cases, Action<string>? log = null)
    {
        var random = new Random(seed);
        var routes = Routes(known);
        var failures = new List<string>();
        var counts = new Dictionary<Expect, int>();
        for (int n = 0; n < cases; n++)
        {
            var route = routes[n % routes.Count];
            var c = route(random, n);
            counts[c.Expect] = counts.GetValueOrDefault(c.Expect) + 1;
            using var request = new HttpRequestMessage(new HttpMethod(c.Method), c.Url);
            if (c.Body != null) request.Content = new StringContent(c.Body, Encoding.UTF8, c.Url.StartsWith("/digests") ? "text/plain" : "application/json");
            using var response = await http.SendAsync(request);
            int status = (int)response.StatusCode;
            string body = await response.Content.ReadAsStringAsync();
            string? problem = Check(c, status, response.Content.Headers.ContentType?.MediaType, body);
            if (problem != null) failures.Add($"{c.Method} {c.Url}{(c.Body == null ? "" : " " + Shorten(c.Body))} [{c.Parameter}]: {problem}: {status} {Shorten(body)}");
        }
        log?.Invoke($"{cases} cases over {routes.Count} routes: {string.Join(", ", counts.Select(p => $"{p.Value} {p.Key}"))}; {failures.Count} broke the property");
        return failures;
    }

    static string? Check(Case c, int status, string? mediaType, string body)
    {
        if (status >= 500) return "a server error";
        if (status is >= 200 and < 300) return c.Expect == Expect.Ok ? null : $"accepted (expected {c.Expect})";
        if (c.Expect == Expect.Ok) return "refused an in-range value";
        if (status is < 400 or >= 500) return "neither success nor a client error";
        if (mediaType != "application/problem+json") return "a client error without problem details";
        string detail = JsonDocument.Parse(body).RootElement.TryGetProperty("detail", out var d) ? d.GetString() ?? "" : "";
        if (detail.Contains("System.", StringComparison.Ordinal)) return "the detail names a .NET type, not the form the value takes";
        if (c.Expect == Expect.NotFound) return status is 404 or 400 ? null : "expected 404";
        return Regex.IsMatch(detail, c.NamePattern, RegexOptions.IgnoreCase) ? null : $"the detail does not name {c.Parameter}";
    }

    static string Shorten(string text) => (text.Length <= 160 ? text : text[..157] + "...").Replace("\n", "\\n");

    delegate Case Route(Random random, int n);

    /// <summary>A query string or body parameter: its name, the pattern its refusal must name it by, and its values.</summary>
    sealed record Parameter(string Name, string NamePattern, Value[] Values);

    static Parameter P(string name, Value[] values, string? pattern = null) => new(name, pattern ?? $@"\b{Regex.Escape(name)}\b", values);

    /// <summary>One parameter perturbed (any value), the others valid; what the perturbed value must get.</summary>
    static (Dictionary<string, Value> Chosen, Parameter Perturbed) Choose(Random random, Parameter[] parameters)
    {
        var perturbed = parameters[random.Next(parameters.Length)];
        var chosen = new Dictionary<string, Value>();
        foreach (var p in parameters)
        {
            var pool = p == perturbed ? p.Values : p.Values.Where(v => v.Expect == Expect.Ok).ToArray();
            chosen[p.Name] = pool[random.Next(pool.Length)];
        }
        return (chosen, perturbed);
    }

    static string Query(Dictionary<string, Value> chosen, params string[] names)
    {
        var parts = names.Where(n => chosen[n].Text != null).Select(n => $"{n}={Uri.EscapeDataString(chosen[n].Text!)}").ToList();
        return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
    }

    static string Body(Dictionary<string, Value> chosen, params string[] names) =>
        "{" + string.Join(", ", names.Where(n => chosen[n].Text != null).Select(n => $"\"{n}\": {AsJson(chosen[n]).Text}")) + "}";

    static Case Make(string method, string url, string? body, Dictionary<string, Value> chosen, Parameter perturbed) =>
        new(method, url, body, chosen[perturbed.Name].Expect, perturbed.Name, perturbed.NamePattern);

    static string Seg(string value) => Uri.EscapeDataString(value);

    static List<Route> Routes(Known k)
    {
        var pIds = new[] { Ok(k.P), Ok(k.PSource), Ok("arXiv:" + k.PSource), Ok(k.PSource + "v2"), Ok("https://arxiv.org/abs/" + k.PSource) };
        var ids = new Parameter("id", @"\bid\b", [.. pIds, .. OddIds]);
        var digestIds = new Parameter("id", @"\bdigest\b", [Ok(k.Digest), .. OddDigests]);
        var excludeDigest = P("excludeDigest", [Ok(null), Ok(""), Ok(k.Digest), .. OddDigests], @"\bdigest\b");
        var libraryQuery = P("library", [Ok(null), Ok(""), Ok(k.Library), Missing("no-such-library"), Bad("a\0"), .. BadLibraryNames]);
        var k_ = P("k", Ks);
        var diversity = P("diversity", Diversities);
        var from = P("from", Froms);
        var to = P("to", Tos);
        var mode = P("mode", Modes);
        var q = P("q", Texts, @"\b(q|text)\b");

        // Body values: the query values written as JSON strings, plus JSON's own odd values.
        Value[] JsonK = [Ok(null), OkJson("5"), OkJson("null"), OkJson("1000"), BadJson("0"), BadJson("-1"), BadJson("1001"), BadJson("1.5"), BadJson("\"abc\""),
            BadJson("2147483648"), BadJson("1e400"), BadJson("true"), BadJson("[]"), BadJson("{}")];
        Value[] JsonDiversity = [Ok(null), OkJson("null"), OkJson("0"), OkJson("0.5"), OkJson("1"), BadJson("-0.1"), BadJson("1.5"), BadJson("\"NaN\""), BadJson("1e400"),
            BadJson("\"abc\""), BadJson("true")];
        Value[] JsonDates(Value[] dates) => [.. dates.Select(AsJson), BadJson("20250311"), BadJson("[]")];
        string Ids(params string[] values) => "[" + string.Join(", ", values.Select(JsonString)) + "]";
        // Every valid liked list holds P, so a disliked P (under any of its ids) is always a conflict.
        Value[] Liked = [OkJson(Ids(k.P)), OkJson(Ids(k.PSource)), OkJson(Ids(k.P, k.P)), OkJson(Ids(k.PSource, k.P)), BadJson("[null]"), BadJson("[\"\"]"),
            BadJson("[\"  \"]"), MissingJson(Ids("nosuch")), BadJson("\"" + k.P + "\""), BadJson("[1]"), BadJson("{}")];
        // Q is disliked validly; P, liked, disliked under either id is the conflict naming both.
        Value[] Disliked = [Ok(null), OkJson("[]"), OkJson(Ids(k.Q)), BadJson(Ids(k.P)), BadJson(Ids(k.PSource)), BadJson(Ids("arXiv:" + k.PSource)), BadJson("[null]"),
            MissingJson(Ids("nosuch")), BadJson("[[]]")];

        var routes = new List<Route>
        {
            (r, n) => { var (c, p) = Choose(r, [q, k_, from, to, mode, diversity]); return Make("GET", "/search" + Query(c, "q", "k", "from", "to", "mode", "diversity"), null, c, p); },
            (r, n) =>
            {
                var (c, p) = Choose(r, [P("text", [.. Texts.Select(AsJson), BadJson("5"), BadJson("[]")]), P("k", JsonK), P("from", JsonDates(Froms)), P("to", JsonDates(Tos)),
                    P("mode", [.. Modes.Select(AsJson), BadJson("1")]), P("diversity", JsonDiversity), P("bogus", [Ok(null), BadJson("1")])]);
                return Make("POST", "/search", Body(c, "text", "k", "from", "to", "mode", "diversity", "bogus"), c, p);
            },
            (r, n) => { var (c, p) = Choose(r, [ids]); return Make("GET", "/papers/" + Seg(c["id"].Text!), null, c, p); },
            (r, n) => { var (c, p) = Choose(r, [new Parameter("id", @"\bid\b", OddIds)]); return Make("DELETE", "/papers/" + Seg(c["id"].Text!), null, c, p); },
            (r, n) =>
            {
                var (c, p) = Choose(r, [ids, k_, from, to, excludeDigest, diversity]);
                return Make("GET", $"/papers/{Seg(c["id"].Text!)}/similar" + Query(c, "k", "from", "to", "excludeDigest", "diversity"), null, c, p);
            },
            (r, n) =>
            {
                float[] unit = Enumerable.Range(0, 384).Select(i => i == n % 384 ? 1f : 0f).ToArray();
                string Vector(IEnumerable<object> values) => "[" + string.Join(",", values.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture))) + "]";
                var (c, p) = Choose(r, [
                    P("title", [OkJson(JsonString($"Probe paper number {n} on tactile grasping")), BadJson("\"\""), BadJson("\"   \""), BadJson("\"!!!\""), BadJson(JsonString(new string('t', 2001))), BadJson("null"), BadJson("\"a\\u0001b\"")]),
                    P("abstract", [OkJson("\"We probe a route with odd values and keep what is valid.\""), BadJson("\"\""), BadJson("null"), BadJson("\"  \"")]),
                    P("date", [Ok(null), OkJson("\"2025-03-11\""), OkJson("\"2025-03-11T10:00:00Z\""), BadJson("\"2025-3-4\""), BadJson("\"03/04/2026\""), BadJson("20250311"), BadJson("\"2025-03-11 junk\"")]),
                    P("id", [Ok(null), OkJson(JsonString($"probe.{n}")), BadJson("\"a b\""), BadJson(JsonString(new string('i', 300))), BadJson("\"\"")]),
                    P("vector", [Ok(null), OkJson("null"), OkJson(Vector(unit.Cast<object>())), BadJson(Vector(unit.Skip(1).Cast<object>())), BadJson(Vector(new float[384].Cast<object>())),
                        BadJson(Vector(unit.Select((x, i) => i == 0 ? (object)"1e39" : x))), BadJson("\"x\""), BadJson("5"), BadJson("{}"), BadJson("[\"a\"]")]),
                ]);
                return Make("POST", "/papers", "[" + Body(c, "title", "abstract", "date", "id", "vector") + "]", c, p);
            },
            (r, n) =>
            {
                string paper = $"Probe digest paper {n} on robot grasping\n\nAn abstract about probing the digest route with odd values.\n";
                var (c, p) = Choose(r, [P("date", [Ok(null), Ok(""), Ok("2025-03-20"), .. BadDates]), P("year", Years), P("name", DigestNames),
                    // The body: a digest, or text that is none (nothing, a date line alone, control bytes, two days given one date).
                    P("body", [Ok($"Mar 20\n\n{paper}"), Ok($"\uFEFFMar 20\r\n\r\n{paper.Replace("\n", "\r\n")}"), Bad(""), Bad("Mar 20\n"), Bad("\0\0\0"), Bad("   \n\n  ")], @"\bdigest\b")]);
                return Make("POST", "/digests" + Query(c, "date", "year", "name"), c["body"].Text, c, p);
            },
            (r, n) =>
            {
                var (c, p) = Choose(r, [P("records", [Bad("[]"), Bad(""), Bad("null"), Bad("[null]"), Bad("5"), Bad("[{}]"), Bad("{\"title\": 5}"), Bad("[[]]"), Bad("\"text\"")],
                    @"\b(body|record|records|title)\b")]);
                return Make("POST", "/papers", c["records"].Text, c, p);
            },
            (r, n) => new Case("GET", "/digests", null, Expect.Ok, "-", ""),
            (r, n) => { var (c, p) = Choose(r, [digestIds, libraryQuery]); return Make("GET", "/digests/" + Seg(c["id"].Text!) + Query(c, "library"), null, c, p); },
            (r, n) =>
            {
                var (c, p) = Choose(r, [P("liked", [.. Liked, BadJson("[]"), BadJson("null")]), P("disliked", Disliked), P("k", JsonK), P("from", JsonDates(Froms)), P("to", JsonDates(Tos)),
                    P("digest", [Ok(null), OkJson(JsonString(k.Digest)), .. OddDigests.Select(AsJson)]), P("diversity", JsonDiversity), P("bogus", [Ok(null), BadJson("1")])]);
                return Make("POST", "/recommend", Body(c, "liked", "disliked", "k", "from", "to", "digest", "diversity", "bogus"), c, p);
            },
            (r, n) =>
            {
                var (c, p) = Choose(r, [P("library", [OkJson(JsonString(k.Library)), MissingJson("\"no-such-library\""), .. BadLibraryNames.Select(AsJson), BadJson("\"\""), BadJson("5")]),
                    P("k", JsonK), P("diversity", JsonDiversity)]);
                return Make("POST", "/recommend", Body(c, "library", "k", "diversity"), c, p);
            },
            (r, n) => new Case("GET", "/libraries", null, Expect.Ok, "-", ""),
            (r, n) =>
            {
                var (c, p) = Choose(r, [P("name", [Ok(k.Library), Missing("no-such-library"), .. BadLibraryNames], @"\bname\b")]);
                return Make("GET", "/libraries/" + Seg(c["name"].Text!), null, c, p);
            },
            (r, n) =>
            {
                var (c, p) = Choose(r, [P("name", [Ok($"probe-put-{n}"), .. BadLibraryNames], @"\bname\b"), P("liked", Liked), P("disliked", Disliked)]);
                return Make("PUT", "/libraries/" + Seg(c["name"].Text!), Body(c, "liked", "disliked"), c, p);
            },
            (r, n) =>
            {
                var (c, p) = Choose(r, [P("name", [Ok($"probe-patch-{n}"), .. BadLibraryNames], @"\bname\b"),
                    P("like", Liked), P("dislike", [.. Disliked]), P("remove", [Ok(null), OkJson("[]"), BadJson("[null]"), MissingJson(Ids("nosuch"))])]);
                // like P and dislike P under another id, or remove what is liked: conflicts naming both.
                return Make("PATCH", "/libraries/" + Seg(c["name"].Text!), Body(c, "like", "dislike", "remove"), c, p);
            },
            (r, n) => { var (c, p) = Choose(r, [P("name", [Missing("no-such-library"), .. BadLibraryNames], @"\bname\b")]); return Make("DELETE", "/libraries/" + Seg(c["name"].Text!), null, c, p); },
            (r, n) =>
            {
                var (c, p) = Choose(r, [from, to, P("digest", [Ok(null), Ok(k.Digest), .. OddDigests])]);
                return Make("GET", "/duplicates" + Query(c, "from", "to", "digest"), null, c, p);
            },
            (r, n) => new Case("GET", new[] { "/health", "/ready", "/metrics", "/openapi/v1.json", "/" }[n % 5], null, Expect.Ok, "-", ""),
        };
        return routes;
    }

    /// <summary>Stores what the probe needs through the API itself (the sample digests are posted by the caller).</summary>
    public static async Task<Known> PrepareAsync(HttpClient http)
    {
        const string source = "2503.99001";
        var created = await http.PostAsync("/papers", new StringContent(
            "[{\"id\": \"" + source + "\", \"title\": \"Probing every route with odd values\", \"abstract\": \"A paper liked by the probe's reader: tactile sensing for robot grasping of soft objects.\"}]"));
        Assert.Equal(System.Net.HttpStatusCode.Created, created.StatusCode);
        string p = (await http.GetFromJsonAsync<JsonElement>("/papers/" + source)).GetProperty("id").GetString()!;
        var found = await http.GetFromJsonAsync<JsonElement>("/search?q=visual+explanations&mode=lexical&k=3");
        string q = found.GetProperty("results").EnumerateArray().Select(e => e.GetProperty("id").GetString()!).First(id => id != p);
        var put = await http.PutAsync("/libraries/probe-reader", new StringContent($"{{\"liked\": [\"{p}\"]}}", Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.OK, put.StatusCode);
        return new Known(p, source, q, "2025-03-12/daily-papers-mar-12", "probe-reader");
    }
}
