using Accounts.Api.Accounts;

namespace Accounts.Api.Tests.Unit;

public sealed class NormalizationTests
{
    [Fact]
    public void Clean_keeps_null_as_null()
    {
        Assert.Null(Normalization.Clean(null));
    }

    [Theory]
    [InlineData("  alice  ", "alice")]
    [InlineData("\talice\n", "alice")]
    [InlineData("alice", "alice")]
    [InlineData("   ", "")]
    public void Clean_trims_surrounding_white_space(string value, string expected)
    {
        Assert.Equal(expected, Normalization.Clean(value));
    }

    [Fact]
    public void Clean_composes_to_normal_form_C()
    {
        Assert.Equal("Jos\u00e9", Normalization.Clean("Jose\u0301"));
    }

    [Fact]
    public void Clean_keeps_case_and_width_as_typed()
    {
        Assert.Equal("ＡＬＩＣＥ", Normalization.Clean("ＡＬＩＣＥ"));
        Assert.Equal("Alice", Normalization.Clean("Alice"));
    }

    [Fact]
    public void Clean_of_a_lone_surrogate_does_not_throw_and_leaves_it_for_validation()
    {
        var cleaned = Normalization.Clean(" ali\ud800ce ");

        Assert.Equal("ali\ud800ce", cleaned);
    }

    [Theory]
    [InlineData("ａｌｉｃｅ")]
    [InlineData("ALICE")]
    [InlineData("Alice")]
    [InlineData("ＡＬＩＣＥ")]
    public void Key_is_the_same_for_full_width_and_any_case(string value)
    {
        Assert.Equal(Normalization.Key("alice"), Normalization.Key(value));
    }

    [Fact]
    public void Key_is_the_same_for_composed_and_decomposed_forms()
    {
        Assert.Equal(Normalization.Key("Jos\u00e9"), Normalization.Key("JOSE\u0301"));
    }

    [Fact]
    public void Key_differs_for_different_names()
    {
        Assert.NotEqual(Normalization.Key("alice"), Normalization.Key("alicia"));
    }

    [Fact]
    public void Key_of_a_lone_surrogate_does_not_throw()
    {
        var exception = Record.Exception(() => Normalization.Key("ali\ud800ce"));

        Assert.Null(exception);
    }

    [Theory]
    [InlineData("alice", true)]
    [InlineData("张小伟", true)]
    [InlineData("𠮷", true)]
    [InlineData("", true)]
    public void IsWellFormed_accepts_well_formed_text(string value, bool expected)
    {
        Assert.Equal(expected, Normalization.IsWellFormed(value));
    }

    [Fact]
    public void IsWellFormed_rejects_lone_surrogates()
    {
        Assert.False(Normalization.IsWellFormed("\ud800"));
        Assert.False(Normalization.IsWellFormed("\udc00"));
        Assert.False(Normalization.IsWellFormed("a\ud800b"));
        Assert.False(Normalization.IsWellFormed("a\udc00\ud800b"));
    }
}
