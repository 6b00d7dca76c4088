using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace ResilienceGrpc.ServiceDefaults;

/// <summary>A setting that is present but wrong; the message names the key and what it accepts.</summary>
public sealed class InvalidConfigurationException(string message) : InvalidOperationException(message);

/// <summary>
/// A service's work limits, bound from the configuration section <c>Limits:&lt;Service&gt;</c>
/// (environment variables such as <c>Limits__Regression__MaxFitWork</c>) onto a class whose
/// public settable <see cref="long"/> or <see cref="int"/> properties are the limits, each with
/// its default. Checked at start: an unknown key, a value that is not a whole number, or one
/// below 1 stops the server with a message naming the key.
/// </summary>
public static class ServiceLimits
{
    /// <summary>The configuration key of a limit, as refusals name it: <c>Limits:Regression:MaxFitWork</c>.</summary>
    public static string Key(string service, string limit) => $"Limits:{service}:{limit}";

    /// <summary>Binds and checks <typeparamref name="TLimits"/> from <c>Limits:<paramref name="service"/></c>.</summary>
    public static TLimits Bind<TLimits>(IConfiguration config, string service)
        where TLimits : new()
    {
        var limits = new TLimits();
        var properties = typeof(TLimits)
            .GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && (p.PropertyType == typeof(long) || p.PropertyType == typeof(int)))
            .ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        foreach (var setting in config.GetSection($"Limits:{service}").GetChildren())
        {
            if (!properties.TryGetValue(setting.Key, out var property))
                throw new InvalidConfigurationException(
                    $"{Key(service, setting.Key)} is not a limit; the {service} limits are {string.Join(", ", properties.Keys)}."
                );
            long max = property.PropertyType == typeof(int) ? int.MaxValue : long.MaxValue;
            if (
                !long.TryParse(
                    setting.Value?.Replace("_", "", StringComparison.Ordinal),
                    NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite,
                    CultureInfo.InvariantCulture,
                    out long value
                )
                || value < 1
                || value > max
            )
                throw new InvalidConfigurationException(
                    $"{Key(service, property.Name)} = '{setting.Value}' is not a limit; give a whole number from 1 to {max:N0}."
                );
            property.SetValue(limits, property.PropertyType == typeof(int) ? (object)(int)value : value);
        }
        return limits;
    }
}
