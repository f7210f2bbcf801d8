using Accounts.Api.Accounts;

namespace Accounts.Api.Tests.Unit;

public sealed class EmailAddressesTests
{
    [Theory]
    [InlineData("alice@example.com")]
    [InlineData("alice.smith+tag@sub.example.co.uk")]
    [InlineData("a_b-c@example-mail.org")]
    [InlineData("用户@例子.广告")]
    public void A_plain_address_is_valid(string email)
    {
        Assert.True(EmailAddresses.IsValid(email));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("alice")]
    [InlineData("@example.com")]
    [InlineData("alice@")]
    [InlineData("alice@example")]
    [InlineData("alice@.com")]
    [InlineData("alice@example..com")]
    [InlineData("alice@example.com.")]
    [InlineData("alice@-example.com")]
    [InlineData("alice@example-.com")]
    [InlineData("a@b@example.com")]
    [InlineData("a..b@example.com")]
    [InlineData(".alice@example.com")]
    [InlineData("a.@example.com")]
    [InlineData("alice@[127.0.0.1]")]
    [InlineData("alice@exa_mple.com")]
    [InlineData("\"a b\"@example.com")]
    public void An_address_without_a_proper_local_part_and_dotted_domain_is_invalid(string? email)
    {
        Assert.False(EmailAddresses.IsValid(email));
    }

    [Theory]
    [InlineData("Alice <alice@example.com>")]
    [InlineData("Alice<alice@example.com>")]
    [InlineData("\"Alice\"<alice@example.com>")]
    [InlineData("<alice@example.com>")]
    [InlineData("alice@example.com (Alice)")]
    [InlineData("alice(comment)@example.com")]
    public void A_display_name_or_comment_form_is_invalid(string email)
    {
        Assert.False(EmailAddresses.IsValid(email));
    }

    [Theory]
    [InlineData("alice @example.com")]
    [InlineData(" alice@example.com")]
    [InlineData("alice@example.com ")]
    [InlineData("alice@example.com\n")]
    [InlineData("alice\t@example.com")]
    [InlineData("alice@exam\u00a0ple.com")]
    [InlineData("alice\u0000@example.com")]
    public void An_address_with_white_space_or_control_characters_is_invalid(string email)
    {
        Assert.False(EmailAddresses.IsValid(email));
    }

    [Fact]
    public void An_address_with_a_lone_surrogate_is_invalid()
    {
        Assert.False(EmailAddresses.IsValid("ali\ud800ce@example.com"));
        Assert.False(EmailAddresses.IsValid("alice@exam\udc00ple.com"));
    }

    [Fact]
    public void A_local_part_of_64_characters_is_valid_and_65_is_not()
    {
        Assert.True(EmailAddresses.IsValid(new string('x', 64) + "@example.com"));
        Assert.False(EmailAddresses.IsValid(new string('x', 65) + "@example.com"));
    }

    [Fact]
    public void A_domain_label_of_63_characters_is_valid_and_64_is_not()
    {
        Assert.True(EmailAddresses.IsValid($"alice@{new string('a', 63)}.com"));
        Assert.False(EmailAddresses.IsValid($"alice@{new string('a', 64)}.com"));
    }

    [Fact]
    public void An_address_of_254_characters_is_valid_and_255_is_not()
    {
        var local = new string('x', 64);
        var domain254 = $"{new string('a', 63)}.{new string('b', 63)}.{new string('c', 57)}.com";
        var email254 = $"{local}@{domain254}";
        var email255 = $"{local}@{new string('a', 63)}.{new string('b', 63)}.{new string('c', 58)}.com";
        Assert.Equal(254, email254.Length);
        Assert.Equal(255, email255.Length);

        Assert.True(EmailAddresses.IsValid(email254));
        Assert.False(EmailAddresses.IsValid(email255));
    }
}
