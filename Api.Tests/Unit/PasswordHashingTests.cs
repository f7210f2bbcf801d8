using System.Buffers.Binary;
using Accounts.Api.Accounts;
using Accounts.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using PasswordOptions = Accounts.Api.Accounts.PasswordOptions;

namespace Accounts.Api.Tests.Unit;

public sealed class PasswordHashingTests
{
    /// <summary>The smallest cost the options allow: keeps the tests fast.</summary>
    private const int FewIterations = 1_000;

    private const string Password = "correct horse battery staple";

    private static PasswordHashing Create(int iterations) =>
        new(Options.Create(new PasswordOptions { Iterations = iterations }));

    [Fact]
    public async Task A_hash_verifies_with_its_password()
    {
        using var hashing = Create(FewIterations);

        var hash = await hashing.HashAsync(Password);

        Assert.Equal(PasswordVerificationResult.Success, await hashing.VerifyAsync(hash, Password));
    }

    [Theory]
    [InlineData("correct horse battery stapl")]
    [InlineData("Correct horse battery staple")]
    [InlineData("")]
    public async Task A_wrong_password_fails(string wrong)
    {
        using var hashing = Create(FewIterations);

        var hash = await hashing.HashAsync(Password);

        Assert.Equal(PasswordVerificationResult.Failed, await hashing.VerifyAsync(hash, wrong));
    }

    [Fact]
    public async Task Two_hashes_of_one_password_differ_by_their_salt()
    {
        using var hashing = Create(FewIterations);

        var first = await hashing.HashAsync(Password);
        var second = await hashing.HashAsync(Password);

        Assert.NotEqual(first, second);
    }

    [Theory]
    [InlineData(FewIterations)]
    [InlineData(12_345)]
    [InlineData(PasswordOptions.DefaultIterations)]
    public async Task The_hash_is_Identity_V3_PBKDF2_HMACSHA512_with_the_configured_iterations(int iterations)
    {
        using var hashing = Create(iterations);

        var bytes = Convert.FromBase64String(await hashing.HashAsync(Password));

        Assert.Equal(0x01, bytes[0]);
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(1, 4))); // KeyDerivationPrf.HMACSHA512
        Assert.Equal((uint)iterations, BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(5, 4)));
        var saltLength = (int)BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(9, 4));
        Assert.True(saltLength >= 16, $"salt of {saltLength} bytes");
        Assert.True(bytes.Length - 13 - saltLength >= 32, "subkey shorter than 256 bits");
    }

    [Fact]
    public void The_default_cost_is_220000_iterations()
    {
        Assert.Equal(220_000, new PasswordOptions().Iterations);
    }

    [Fact]
    public async Task A_hash_made_with_fewer_iterations_verifies_but_asks_for_a_rehash()
    {
        using var old = Create(FewIterations);
        using var current = Create(FewIterations * 2);

        var hash = await old.HashAsync(Password);

        Assert.Equal(PasswordVerificationResult.SuccessRehashNeeded, await current.VerifyAsync(hash, Password));
        Assert.Equal(PasswordVerificationResult.Failed, await current.VerifyAsync(hash, "wrong password"));
    }

    [Fact]
    public async Task A_hash_made_with_more_iterations_verifies_without_a_rehash()
    {
        using var stronger = Create(FewIterations * 2);
        using var current = Create(FewIterations);

        var hash = await stronger.HashAsync(Password);

        Assert.Equal(PasswordVerificationResult.Success, await current.VerifyAsync(hash, Password));
    }

    [Fact]
    public async Task Fifty_concurrent_hashes_all_complete()
    {
        using var hashing = Create(FewIterations);

        var hashes = Enumerable.Range(0, 50).Select(i => hashing.HashAsync($"{Password} {i}")).ToArray();
        var all = Task.WhenAll(hashes);
        var finished = await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(30)));

        Assert.Same(all, finished);
        var results = await all;
        Assert.Equal(50, results.Distinct(StringComparer.Ordinal).Count());
        for (var i = 0; i < results.Length; i += 7)
        {
            Assert.Equal(PasswordVerificationResult.Success, await hashing.VerifyAsync(results[i], $"{Password} {i}"));
        }
    }

    [Fact]
    public async Task A_canceled_request_is_not_hashed()
    {
        using var hashing = Create(FewIterations);
        using var cancellation = new CancellationTokenSource();
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => hashing.HashAsync(Password, cancellation.Token));
    }

    [LinuxFact]
    public async Task Hashing_threads_yield_the_CPU_to_request_threads_on_Linux()
    {
        using var hashing = Create(FewIterations);

        // The thread's own /proc entry: its nice value is the 19th field, the 17th after the name's ')'.
        var stat = await hashing.RunAsync(() => File.ReadAllText("/proc/thread-self/stat"), CancellationToken.None);
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');

        Assert.Equal("10", fields[16]);
    }

    [Fact]
    public void Concurrency_is_the_core_count()
    {
        using var hashing = Create(FewIterations);

        Assert.Equal(Environment.ProcessorCount, hashing.Concurrency);
    }
}
