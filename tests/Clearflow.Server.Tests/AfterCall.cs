using System.Reflection;

namespace Clearflow.Server.Tests;

/// <summary>
/// A real service (the real store, not a stand-in) with a hook that runs once, after a named method's result is
/// ready and before its caller gets it: to make a race happen at a known point, or to look at the server while it
/// is inside a request. Every call goes to the real service.
/// </summary>
public class AfterCall<T> : DispatchProxy where T : class
{
    private static readonly MethodInfo Then = typeof(AfterCall<T>).GetMethod(nameof(ThenAsync), BindingFlags.NonPublic | BindingFlags.Instance)!;

    private T _inner = null!;
    private string _method = null!;
    private Func<Task> _hook = null!;
    private int _ran;

    /// <param name="method">an async method of <typeparamref name="T"/> returning <c>Task&lt;TResult&gt;</c></param>
    public static T Wrap(T inner, string method, Func<Task> hook)
    {
        if (!typeof(T).GetInterfaces().Prepend(typeof(T)).SelectMany(i => i.GetMethods()).Any(m => m.Name == method && m.ReturnType.IsGenericType && m.ReturnType.GetGenericTypeDefinition() == typeof(Task<>)))
        {
            throw new ArgumentException($"{typeof(T).Name} has no method {method} returning Task<TResult>.", nameof(method));
        }
        var proxy = Create<T, AfterCall<T>>();
        var self = (AfterCall<T>)(object)proxy;
        (self._inner, self._method, self._hook) = (inner, method, hook);
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        var result = targetMethod!.Invoke(_inner, args);
        if (targetMethod.Name != _method || Interlocked.Exchange(ref _ran, 1) == 1)
        {
            return result;
        }
        return Then.MakeGenericMethod(targetMethod.ReturnType.GetGenericArguments().Single()).Invoke(this, [result]);
    }

    private async Task<TResult> ThenAsync<TResult>(Task<TResult> call)
    {
        var result = await call;
        await _hook();
        return result;
    }
}
