using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Accounts.Api.Tests.Infrastructure;

/// <summary>One log entry as a log collector would store it: the message, its structured values and its scopes.</summary>
public sealed record CapturedLog(string Category, LogLevel Level, string Message, string State, string Scopes, string? Exception)
{
    public override string ToString() => $"{Level} {Category}: {Message} | {State} | {Scopes} | {Exception}";
}

/// <summary>A logger provider that keeps every entry, with its structured state and scopes, for assertions.</summary>
public sealed class CapturedLogs : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<CapturedLog> _entries = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IReadOnlyCollection<CapturedLog> Entries => [.. _entries];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => owner._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? string.Join(", ", pairs.Select(p => $"{p.Key}={p.Value}"))
                : state?.ToString() ?? "";
            var scopes = new List<string>();
            owner._scopes.ForEachScope(
                (scope, list) => list.Add(scope is IEnumerable<KeyValuePair<string, object?>> kv
                    ? string.Join(", ", kv.Select(p => $"{p.Key}={p.Value}"))
                    : scope?.ToString() ?? ""),
                scopes);
            owner._entries.Enqueue(new CapturedLog(category, logLevel, formatter(state, exception), values, string.Join(" => ", scopes), exception?.ToString()));
        }
    }
}
