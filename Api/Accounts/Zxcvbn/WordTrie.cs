namespace Accounts.Api.Accounts.Zxcvbn;

/// <summary>
/// Ranked word lists merged into one trie, so finding every listed word in a password is one walk
/// from each position that stops where no word continues (a few characters in random text) rather
/// than a lookup of every slice in every list. Built once, read-only afterwards.
/// </summary>
internal sealed class WordTrie
{
    private const int None = -1;

    // Node n: its character, its first child and next sibling, and the first of its ranks (one per
    // list, 0 where the list lacks the word) or None where no word ends at n.
    private readonly int[] _rootChildren = new int[128];
    private char[] _label;
    private int[] _firstChild;
    private int[] _nextSibling;
    private int[] _ranksAt;
    private int[] _ranks;
    private int _nodes;
    private int _rankCount;

    /// <summary>
    /// As the reference ranks its lists: from 1, in order, a word listed twice keeping its last rank.
    /// Words are matched as given (the reference's lists and user inputs are lower case).
    /// </summary>
    public WordTrie(IReadOnlyList<IEnumerable<string>> lists)
    {
        ListCount = lists.Count;
        Array.Fill(_rootChildren, None);
        // At most one node per character, and one set of ranks per word.
        var characters = 1 + lists.Sum(list => list.Sum(word => word.Length));
        _label = new char[characters];
        _firstChild = new int[characters];
        _nextSibling = new int[characters];
        _ranksAt = new int[characters];
        _ranks = new int[ListCount * Math.Max(1, lists.Sum(list => list.Count()))];
        NewNode('\0'); // the root
        for (var list = 0; list < lists.Count; list++)
        {
            var rank = 1;
            foreach (var word in lists[list])
            {
                if (word.Length > 0)
                {
                    SetRank(Insert(word), list, rank);
                }

                rank++;
            }
        }

        // Trimmed to size: the reference's 600,000 characters make about 230,000 nodes.
        Array.Resize(ref _label, _nodes);
        Array.Resize(ref _firstChild, _nodes);
        Array.Resize(ref _nextSibling, _nodes);
        Array.Resize(ref _ranksAt, _nodes);
        Array.Resize(ref _ranks, _rankCount);
    }

    public int ListCount { get; }

    /// <summary>Calls <paramref name="found"/> (i, j, list, rank) for every listed word at [i..j] of <paramref name="text"/>, by i, then j, then list.</summary>
    public void FindAll<TState>(ReadOnlySpan<char> text, TState state, Action<TState, int, int, int, int> found)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var node = 0;
            for (var j = i; j < text.Length; j++)
            {
                node = Child(node, text[j]);
                if (node == None)
                {
                    break;
                }

                var at = _ranksAt[node];
                if (at == None)
                {
                    continue;
                }

                for (var list = 0; list < ListCount; list++)
                {
                    var rank = _ranks[at + list];
                    if (rank > 0)
                    {
                        found(state, i, j, list, rank);
                    }
                }
            }
        }
    }

    private int Insert(string word)
    {
        var node = 0;
        foreach (var c in word)
        {
            var child = Child(node, c);
            if (child == None)
            {
                child = NewNode(c);
                if (node == 0 && c < 128)
                {
                    _rootChildren[c] = child;
                }

                _nextSibling[child] = _firstChild[node];
                _firstChild[node] = child;
            }

            node = child;
        }

        return node;
    }

    private void SetRank(int node, int list, int rank)
    {
        if (_ranksAt[node] == None)
        {
            _ranksAt[node] = _rankCount;
            _rankCount += ListCount; // a fresh array holds zeros
        }

        _ranks[_ranksAt[node] + list] = rank;
    }

    private int Child(int node, char c)
    {
        if (node == 0 && c < 128)
        {
            return _rootChildren[c];
        }

        for (var child = _firstChild[node]; child != None; child = _nextSibling[child])
        {
            if (_label[child] == c)
            {
                return child;
            }
        }

        return None;
    }

    private int NewNode(char c)
    {
        _label[_nodes] = c;
        _firstChild[_nodes] = None;
        _nextSibling[_nodes] = None;
        _ranksAt[_nodes] = None;
        return _nodes++;
    }
}
