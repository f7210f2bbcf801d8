using System.Net.Mail;

namespace Accounts.Api.Accounts;

/// <summary>What this service accepts as an email address: one plain <c>local@domain.tld</c>, nothing else.</summary>
public static class EmailAddresses
{
    public const int MaxLength = 254;

    public static bool IsValid(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > MaxLength || !Normalization.IsWellFormed(value)
            || value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            return false;
        }

        var at = value.LastIndexOf('@');
        if (at is <= 0 or > 64 || at == value.Length - 1)
        {
            return false;
        }

        // The local part: dot-separated atoms, no quoting (no leading, trailing or doubled dot).
        var local = value[..at];
        if (local.Split('.').Any(atom => atom.Length == 0 || atom.Any(c => c is '"' or '(' or ')' or ',' or ':' or ';' or '<' or '>' or '@' or '[' or ']' or '\\')))
        {
            return false;
        }

        // The domain: a host name (letters of any script, digits, hyphens), not an address literal.
        var domain = value[(at + 1)..];
        var labels = domain.Split('.');
        if (labels.Length < 2
            || labels.Any(l => l.Length is 0 or > 63 || l[0] == '-' || l[^1] == '-' || !l.All(c => char.IsLetterOrDigit(c) || c == '-')))
        {
            return false;
        }

        // System.Net.Mail's parser settles quoting and dot rules in the local part; a display
        // name or comment ("Alice <a@b.c>") parses too, so the address must come back unchanged.
        return MailAddress.TryCreate(value, out var address)
            && address.Address == value
            && address.DisplayName.Length == 0;
    }
}
