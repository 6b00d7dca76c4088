using System.Text.Json;
using Google.Protobuf.Reflection;

namespace ResilienceGrpc.ServiceDefaults;

/// <summary>
/// Finds the first name in an HTTP/JSON request body that the request message does not have.
/// The JSON transcoder drops such names silently, so a misspelt option (<c>"tolerence"</c>,
/// <c>"boostrap"</c>) would give an answer computed with the default instead; Google's own
/// HTTP APIs, and our command line's <c>--spec</c>, refuse it. A name matches a field by its
/// proto name or its lowerCamelCase JSON name, as proto3 JSON allows. Well-known types and map
/// entries, whose keys are data, are not looked into.
/// </summary>
public static class JsonBodyFields
{
    /// <summary>The unknown name: the path of its field (proto names, with list indices) and a sentence; null when every name is known or the body is not JSON (the transcoder then answers).</summary>
    public static (string Field, string Message)? FindUnknown(ReadOnlySpan<byte> json, MessageDescriptor message)
    {
        var reader = new Utf8JsonReader(
            json,
            new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, MaxDepth = 64 }
        );
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return null;
            return Object(ref reader, message, "");
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static (string, string)? Object(ref Utf8JsonReader reader, MessageDescriptor message, string path)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string name = reader.GetString()!;
            var field = message.FindFieldByName(name) ?? message.Fields.InDeclarationOrder().FirstOrDefault(f => f.JsonName == name);
            if (field is null)
                return Unknown(message, path, name);
            reader.Read();
            string at = path.Length == 0 ? field.Name : path + "." + field.Name;
            if (field.FieldType != FieldType.Message || field.IsMap || IsWellKnown(field.MessageType))
            {
                reader.Skip();
                continue;
            }
            if (field.IsRepeated && reader.TokenType == JsonTokenType.StartArray)
            {
                for (int i = 0; reader.Read() && reader.TokenType != JsonTokenType.EndArray; i++)
                {
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        if (Object(ref reader, field.MessageType, $"{at}[{i}]") is { } found)
                            return found;
                    }
                    else
                        reader.Skip();
                }
            }
            else if (reader.TokenType == JsonTokenType.StartObject)
            {
                if (Object(ref reader, field.MessageType, at) is { } found)
                    return found;
            }
            else
                reader.Skip();
        }
        return null;
    }

    private static (string, string) Unknown(MessageDescriptor message, string path, string name)
    {
        name = Shown(name);
        string field = path.Length == 0 ? name : path + "." + name;
        var near = message
            .Fields.InDeclarationOrder()
            .Select(f => f.JsonName)
            .OrderBy(n => Distance(n.ToLowerInvariant(), name.ToLowerInvariant()))
            .FirstOrDefault();
        string hint =
            near is not null && Distance(near.ToLowerInvariant(), name.ToLowerInvariant()) <= Math.Max(2, name.Length / 4)
                ? $" Did you mean '{near}'?"
                : "";
        string where = path.Length == 0 ? "the request" : $"'{path}'";
        return (
            field,
            $"The request body has a field '{name}' that {where} ({message.Name}) does not have; it would be ignored, so it is refused.{hint}"
        );
    }

    /// <summary>A client's name as the answer shows it: at most 60 characters, control characters as '?'.</summary>
    private static string Shown(string name)
    {
        var shown = new string(name.Take(60).Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return name.Length > 60 ? shown + "…" : shown;
    }

    private static bool IsWellKnown(MessageDescriptor type) =>
        type.File.Package == "google.protobuf";

    /// <summary>Levenshtein distance, for the suggestion only.</summary>
    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
            previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(
                    Math.Min(current[j - 1] + 1, previous[j] + 1),
                    previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                );
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
