using System.Buffers.Text;
using System.Security.Cryptography;
using Accounts.Api.Accounts;

namespace Accounts.Api.Tests.Unit;

public sealed class AccountTokensTests
{
    [Fact]
    public void Create_gives_a_43_character_base64url_token()
    {
        var (token, _) = AccountTokens.Create();

        Assert.Equal(43, token.Length);
        Assert.All(token, c => Assert.True(char.IsAsciiLetterOrDigit(c) || c is '-' or '_', $"'{c}' is not base64url"));
    }

    [Fact]
    public void Create_gives_the_SHA256_of_32_random_bytes_as_the_hash()
    {
        var (token, hash) = AccountTokens.Create();

        var bytes = Base64Url.DecodeFromChars(token);
        Assert.Equal(32, bytes.Length);
        Assert.Equal(SHA256.HashData(bytes), hash);
    }

    [Fact]
    public void TryHash_of_a_created_token_equals_the_hash_returned_with_it()
    {
        var (token, hash) = AccountTokens.Create();

        Assert.True(AccountTokens.TryHash(token, out var received));
        Assert.Equal(hash, received);
    }

    [Fact]
    public void Two_created_tokens_differ()
    {
        var first = AccountTokens.Create();
        var second = AccountTokens.Create();

        Assert.NotEqual(first.Token, second.Token);
        Assert.NotEqual(first.Hash, second.Hash);
    }

    [Fact]
    public void TryHash_rejects_null()
    {
        Assert.False(AccountTokens.TryHash(null, out var hash));
        Assert.Empty(hash);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(42)]
    [InlineData(44)]
    [InlineData(64)]
    public void TryHash_rejects_a_token_of_the_wrong_length(int length)
    {
        var token = new string('A', length);

        Assert.False(AccountTokens.TryHash(token, out var hash));
        Assert.Empty(hash);
    }

    [Theory]
    [InlineData('+')]
    [InlineData('/')]
    [InlineData('=')]
    [InlineData(' ')]
    [InlineData('.')]
    [InlineData('%')]
    public void TryHash_rejects_a_token_with_a_character_outside_base64url(char bad)
    {
        var (token, _) = AccountTokens.Create();

        foreach (var position in new[] { 0, 21, 41, 42 })
        {
            var tampered = string.Concat(token.AsSpan(0, position), [bad], token.AsSpan(position + 1));
            Assert.Equal(43, tampered.Length);
            Assert.False(AccountTokens.TryHash(tampered, out _), $"'{bad}' at {position} was accepted");
        }
    }

    [Fact]
    public void TryHash_of_a_different_token_gives_a_different_hash()
    {
        var (token, hash) = AccountTokens.Create();
        var other = (token[0] == 'A' ? 'B' : 'A') + token[1..];

        Assert.True(AccountTokens.TryHash(other, out var otherHash));
        Assert.NotEqual(hash, otherHash);
    }
}
