using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace PaperVec.Cli;

/// <summary>
/// The one place where option values are parsed and range-checked, for every verb: each typed option
/// gets a parser that names the flag and the expected form (System.CommandLine's own messages name
/// .NET types such as System.Nullable`1[System.DateOnly], and its enum parser accepts numbers), and
/// the ranges the README promises are checked at parse time, so every bad argument is exit 2.
/// </summary>
static class CommandLineRules
{
    /// <summary>Inclusive ranges by flag name, the same wherever the flag appears.</summary>
    static readonly Dictionary<string, (double Min, double Max)> Ranges = new()
    {
        ["--k"] = (1, Search.SearchScope.MaxK),
        ["--diversity"] = (0, 1),
        ["--year"] = (Ingest.DigestParseOptions.MinYear, Ingest.DigestParseOptions.MaxYear), // the API's ?year= takes the same
        ["--min-cosine"] = (0, 1),
        ["--min-lexical"] = (0, 1),
    };

    const string DateForm = "a date as yyyy-MM-dd (ISO 8601), e.g. 2025-03-11";

    public static void Apply(Command command)
    {
        foreach (var option in command.Options) Apply(option);
        foreach (var sub in command.Subcommands) Apply(sub);
    }

    static void Apply(Option option)
    {
        switch (option)
        {
            case Option<int> o: o.CustomParser = r => ParseInt(r, o.Name) ?? 0; break;
            case Option<int?> o: o.CustomParser = r => ParseInt(r, o.Name); break;
            case Option<long> o: o.CustomParser = r => Parse<long>(r, o.Name, "a whole number", s => long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : default(long?)) ?? 0; break;
            case Option<double> o: o.CustomParser = r => ParseDouble(r, o.Name) ?? 0; break;
            case Option<double?> o: o.CustomParser = r => ParseDouble(r, o.Name); break;
            case Option<DateOnly> o: o.CustomParser = r => ParseDate(r, o.Name) ?? default; break;
            case Option<DateOnly?> o: o.CustomParser = r => ParseDate(r, o.Name); break;
            default:
                var type = option.ValueType;
                var underlying = Nullable.GetUnderlyingType(type) ?? type;
                if (underlying.IsEnum)
                    typeof(CommandLineRules).GetMethod(nameof(ApplyEnum), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
                        .MakeGenericMethod(underlying).Invoke(null, [option]);
                break;
        }
    }

    static void ApplyEnum<T>(Option option) where T : struct, Enum
    {
        var names = Enum.GetNames<T>().Select(n => n.ToLowerInvariant()).ToArray();
        T? Parse(ArgumentResult r) => CommandLineRules.Parse<T>(r, option.Name, $"one of {string.Join(", ", names)}",
            // Names only: Enum.TryParse would also take "7" and make an undefined value.
            s => Enum.GetNames<T>().FirstOrDefault(n => n.Equals(s, StringComparison.OrdinalIgnoreCase)) is { } n ? Enum.Parse<T>(n) : default(T?));
        if (option is Option<T> plain) plain.CustomParser = r => Parse(r) ?? default;
        else if (option is Option<T?> nullable) nullable.CustomParser = r => Parse(r);
    }

    static int? ParseInt(ArgumentResult r, string name)
    {
        var value = Parse<int>(r, name, "a whole number", s => int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : default(int?));
        return value is int v && InRange(r, name, v) ? v : value;
    }

    static double? ParseDouble(ArgumentResult r, string name)
    {
        var value = Parse<double>(r, name, "a number such as 0.5", s =>
            double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v : default(double?));
        return value is double v && InRange(r, name, v) ? v : value;
    }

    static DateOnly? ParseDate(ArgumentResult r, string name) =>
        // Exactly yyyy-MM-dd, as the API: 12/03/2025 is ambiguous, and a parse that guesses finds nothing, with exit 0.
        Parse<DateOnly>(r, name, DateForm, s => DateOnly.TryParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : default(DateOnly?));

    static T? Parse<T>(ArgumentResult r, string name, string form, Func<string, T?> parse) where T : struct
    {
        if (r.Tokens.Count == 0) { r.AddError($"{name} needs a value: {form}"); return null; }
        string text = r.Tokens[^1].Value;
        if (parse(text) is T value) return value;
        r.AddError($"{name} expects {form}, not '{text}'");
        return null;
    }

    static bool InRange(ArgumentResult r, string name, double value)
    {
        if (!Ranges.TryGetValue(name, out var range) || (value >= range.Min && value <= range.Max)) return true;
        r.AddError($"{name} must be within {range.Min.ToString(CultureInfo.InvariantCulture)}..{range.Max.ToString(CultureInfo.InvariantCulture)}, not {value.ToString(CultureInfo.InvariantCulture)}");
        return false;
    }

    /// <summary>
    /// The first parse error as one line: what is wrong, a "did you mean" for a mistyped verb or flag,
    /// and the help of the verb being run (not the root's).
    /// </summary>
    public static string? Describe(ParseResult parsed)
    {
        var command = parsed.CommandResult.Command;
        string path = CommandPath(parsed.CommandResult);
        string help = $"see '{path} --help'";
        // A verb that takes any number of arguments (ingest FILES...) swallows a mistyped flag as one:
        // `ingest x.txt --yaer 2025` would otherwise report "no such file: --yaer".
        if (parsed.Errors.Count == 0)
        {
            var flagLike = parsed.CommandResult.Children.OfType<ArgumentResult>().SelectMany(a => a.Tokens)
                .Select(t => t.Value).FirstOrDefault(v => v.StartsWith("--") && v.Length > 2);
            if (flagLike == null) return null;
            var flags = command.Options.Concat(Ancestors(parsed.CommandResult).SelectMany(c => c.Options.Where(o => o.Recursive)))
                .SelectMany(o => o.Aliases.Prepend(o.Name)).Where(n => n.StartsWith("--")).Distinct();
            return Closest(flagLike, flags) is { } near
                ? $"{path}: unknown option '{flagLike}'; did you mean '{near}'? ({help})"
                : $"{path}: unknown option '{flagLike}' ({help})";
        }
        if (parsed.UnmatchedTokens is [var token, ..] && !parsed.Errors.Any(e => e.SymbolResult is OptionResult or ArgumentResult))
        {
            if (token.StartsWith('-'))
            {
                var flags = command.Options.Concat(Ancestors(parsed.CommandResult).SelectMany(c => c.Options.Where(o => o.Recursive)))
                    .SelectMany(o => o.Aliases.Prepend(o.Name)).Where(n => n.StartsWith("--")).Distinct();
                return Closest(token, flags) is { } flag
                    ? $"{path}: unknown option '{token}'; did you mean '{flag}'? ({help})"
                    : $"{path}: unknown option '{token}' ({help})";
            }
            if (command.Subcommands.Count > 0)
            {
                var verbs = command.Subcommands.Where(c => !c.Hidden).SelectMany(c => c.Aliases.Prepend(c.Name));
                return Closest(token, verbs) is { } verb
                    ? $"{path}: unknown command '{token}'; did you mean '{verb}'? (see '{path} {verb} --help')"
                    : $"{path}: unknown command '{token}' ({help})";
            }
            return $"{path}: unexpected argument '{token}' ({help})";
        }
        if (parsed.Errors.Count == 0) return null;
        string message = parsed.Errors[0].Message.Trim().Split('\n')[0].Trim();
        return $"{path}: {message} ({help})";
    }

    static IEnumerable<Command> Ancestors(SymbolResult result)
    {
        for (var r = result.Parent; r != null; r = r.Parent)
            if (r is CommandResult c) yield return c.Command;
    }

    static string CommandPath(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result; r != null; r = r.Parent)
            if (r is CommandResult c) names.Add(c.Command.Name);
        names.Reverse();
        return string.Join(' ', names);
    }

    /// <summary>The candidate nearest <paramref name="typed"/>, if near enough to be a typo: the engine's one rule, which unknown digest ids use too.</summary>
    internal static string? Closest(string typed, IEnumerable<string> candidates) => Engine.NotFoundHints.Closest(typed, candidates);
}
