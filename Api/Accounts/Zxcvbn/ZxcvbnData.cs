using System.Collections.Frozen;
using System.Text.Json;

namespace Accounts.Api.Accounts.Zxcvbn;

/// <summary>
/// The reference zxcvbn's (4.4.2) ranked dictionaries and keyboard graphs, embedded from
/// <c>Data/</c> (written by <c>Api.Tests/Node/zxcvbn-data.mjs</c> from the pinned npm package, and
/// checked against it by the tests). Loaded once, on first use; read-only afterwards, so any number
/// of threads estimate at once.
/// </summary>
internal sealed class ZxcvbnData
{
    /// <summary>The dictionaries in the reference's order (that order breaks ties between equal matches).</summary>
    public static readonly string[] DictionaryNames =
        ["passwords", "english_wikipedia", "female_names", "surnames", "us_tv_and_film", "male_names"];

    public static readonly string[] GraphNames = ["qwerty", "dvorak", "keypad", "mac_keypad"];

    private static readonly Lazy<ZxcvbnData> Loaded = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    private ZxcvbnData(WordTrie words, AdjacencyGraph[] graphs)
    {
        Words = words;
        Graphs = graphs;
        var qwerty = graphs.Single(g => g.Name == "qwerty");
        var keypad = graphs.Single(g => g.Name == "keypad");
        KeyboardStartingPositions = qwerty.Keys.Count;
        KeyboardAverageDegree = qwerty.AverageDegree;
        KeypadStartingPositions = keypad.Keys.Count;
        KeypadAverageDegree = keypad.AverageDegree;
    }

    public static ZxcvbnData Instance => Loaded.Value;

    /// <summary>Every list of <see cref="DictionaryNames"/>, in that order, in one trie.</summary>
    public WordTrie Words { get; }

    public IReadOnlyList<AdjacencyGraph> Graphs { get; }

    public double KeyboardStartingPositions { get; }

    public double KeyboardAverageDegree { get; }

    public double KeypadStartingPositions { get; }

    public double KeypadAverageDegree { get; }

    /// <summary>Every embedded word list by name, in rank order (for the test that compares them with the reference).</summary>
    public static IReadOnlyDictionary<string, string[]> ReadLists() =>
        DictionaryNames.ToDictionary(name => name, ReadList);

    /// <summary>Every embedded graph by name: key → neighbours by direction (null where there is none).</summary>
    public static IReadOnlyDictionary<string, Dictionary<string, string?[]>> ReadGraphs()
    {
        using var stream = Open("adjacency_graphs.json");
        return JsonSerializer.Deserialize<Dictionary<string, Dictionary<string, string?[]>>>(stream)
            ?? throw new InvalidDataException("The embedded adjacency_graphs.json is empty.");
    }

    private static ZxcvbnData Load()
    {
        var words = new WordTrie([.. DictionaryNames.Select(ReadList)]);
        var graphs = ReadGraphs();
        return new ZxcvbnData(words, [.. GraphNames.Select(name => new AdjacencyGraph(name, graphs[name]))]);
    }

    private static string[] ReadList(string name)
    {
        using var reader = new StreamReader(Open($"{name}.txt"));
        var words = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0)
            {
                words.Add(line);
            }
        }

        return [.. words];
    }

    private static Stream Open(string file) =>
        typeof(ZxcvbnData).Assembly.GetManifestResourceStream($"Accounts/Zxcvbn/Data/{file}")
        ?? throw new InvalidOperationException($"The embedded zxcvbn data file '{file}' is missing from the build.");
}

/// <summary>A keyboard layout: for each key, its neighbours by direction (each "unshifted shifted", or null).</summary>
internal sealed class AdjacencyGraph
{
    public AdjacencyGraph(string name, IReadOnlyDictionary<string, string?[]> keys)
    {
        Name = name;
        Keys = keys.ToFrozenDictionary(k => k.Key[0], k => k.Value);
        AverageDegree = Keys.Values.Average(neighbours => (double)neighbours.Count(n => n is not null));
    }

    public string Name { get; }

    public FrozenDictionary<char, string?[]> Keys { get; }

    /// <summary>On qwerty 'g' has 6 neighbours and '\' one; this is the mean over all keys.</summary>
    public double AverageDegree { get; }

    /// <summary>Keyboards (not keypads) have shifted keys and count turns against the keyboard's degree.</summary>
    public bool IsKeyboard => Name is "qwerty" or "dvorak";
}
