using System.Reflection;

namespace Clearflow.Server.Tests;

/// <summary>
/// A real service (the real store, not a stand-in) with a hook that runs once, just before a named method runs or
/// after its result is ready and before its caller gets it: to make a race happen at a known point, or to look at
/// the server while it is inside a request. Every call goes to the real service.
/// </summary>
public class CallHook<T> : DispatchProxy where T : class
{
    private static readonly MethodInfo Around = typeof(CallHook<T>).GetMethod(nameof(AroundAsync), BindingFlags.NonPublic | BindingFlags.Instance)!;

    private T _inner = null!;
    private string _method = null!;
    private Func<Task> _hook = null!;
    private bool _before;
    private int _ran;

    /// <summary>The hook runs after the first call of <paramref name="method"/> has its result.</summary>
    /// <param name="method">an async method of <typeparamref name="T"/> returning <c>Task&lt;TResult&gt;</c></param>
    public static T After(T inner, string method, Func<Task> hook) => Wrap(inner, method, hook, before: false);

    /// <summary>The hook runs (and completes) before the first call of <paramref name="method"/> reaches the real service.</summary>
    /// <param name="method">an async method of <typeparamref name="T"/> returning <c>Task&lt;TResult&gt;</c></param>
    public static T Before(T inner, string method, Func<Task> hook) => Wrap(inner, method, hook, before: true);

    private static T Wrap(T inner, string method, Func<Task> hook, bool before)
    {
        if (!typeof(T).GetInterfaces().Prepend(typeof(T)).SelectMany(i => i.GetMethods()).Any(m => m.Name == method && m.ReturnType.IsGenericType && m.ReturnType.GetGenericTypeDefinition() == typeof(Task<>)))
        {
            throw new ArgumentException($"{typeof(T).Name} has no method {method} returning Task<TResult>.", nameof(method));
        }
        var proxy = Create<T, CallHook<T>>();
        var self = (CallHook<T>)(object)proxy;
        (self._inner, self._method, self._hook, self._before) = (inner, method, hook, before);
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (targetMethod!.Name != _method || Interlocked.Exchange(ref _ran, 1) == 1)
        {
            return targetMethod.Invoke(_inner, args);
        }
        return Around.MakeGenericMethod(targetMethod.ReturnType.GetGenericArguments().Single()).Invoke(this, [targetMethod, args]);
    }

    private async Task<TResult> AroundAsync<TResult>(MethodInfo method, object?[]? args)
    {
        if (_before)
        {
            await _hook();
        }
        var result = await (Task<TResult>)method.Invoke(_inner, args)!;
        if (!_before)
        {
            await _hook();
        }
        return result;
    }
}
