using System.Text.Json;

namespace Kslurm.Tests;

/// <summary>
/// Checks a JSON document against the subset of JSON Schema our checked-in schemas use: type
/// (one or a list), enum, required, properties, additionalProperties: false, items, minItems,
/// minimum. Returns the problems found, as paths.
/// </summary>
public static class JsonSchemaCheck
{
    public static List<string> Problems(JsonElement schema, JsonElement value, string path = "$")
    {
        var problems = new List<string>();
        if (schema.TryGetProperty("type", out var type))
        {
            var allowed = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!).ToList() : [type.GetString()!];
            if (!allowed.Any(t => Is(value, t)))
            {
                problems.Add($"{path}: {value.ValueKind} is not {string.Join("|", allowed)}");
                return problems;
            }
        }
        if (schema.TryGetProperty("enum", out var en) && !en.EnumerateArray().Any(e => e.GetRawText() == value.GetRawText()))
            problems.Add($"{path}: {value.GetRawText()} is not one of {en.GetRawText()}");
        if (schema.TryGetProperty("minimum", out var min) && value.ValueKind == JsonValueKind.Number && value.GetDouble() < min.GetDouble())
            problems.Add($"{path}: below minimum {min}");
        if (value.ValueKind == JsonValueKind.Object)
        {
            var props = schema.TryGetProperty("properties", out var p) ? p : default;
            if (schema.TryGetProperty("required", out var req))
                foreach (var r in req.EnumerateArray())
                    if (!value.TryGetProperty(r.GetString()!, out _))
                        problems.Add($"{path}: missing {r.GetString()}");
            foreach (var member in value.EnumerateObject())
            {
                if (props.ValueKind == JsonValueKind.Object && props.TryGetProperty(member.Name, out var sub))
                    problems.AddRange(Problems(sub, member.Value, $"{path}.{member.Name}"));
                else if (schema.TryGetProperty("additionalProperties", out var ap) && ap.ValueKind == JsonValueKind.False)
                    problems.Add($"{path}: unexpected property {member.Name}");
            }
        }
        if (value.ValueKind == JsonValueKind.Array)
        {
            if (schema.TryGetProperty("minItems", out var mi) && value.GetArrayLength() < mi.GetInt32())
                problems.Add($"{path}: fewer than {mi} items");
            if (schema.TryGetProperty("items", out var items))
            {
                var i = 0;
                foreach (var item in value.EnumerateArray())
                    problems.AddRange(Problems(items, item, $"{path}[{i++}]"));
            }
        }
        return problems;
    }

    static bool Is(JsonElement v, string type) => type switch
    {
        "object" => v.ValueKind == JsonValueKind.Object,
        "array" => v.ValueKind == JsonValueKind.Array,
        "string" => v.ValueKind == JsonValueKind.String,
        "boolean" => v.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => v.ValueKind == JsonValueKind.Null,
        "integer" => v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out _),
        "number" => v.ValueKind == JsonValueKind.Number,
        _ => false,
    };

    public static void Valid(string schemaFile, string json)
    {
        using var schema = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repo.Root, schemaFile)));
        using var doc = JsonDocument.Parse(json);
        var problems = Problems(schema.RootElement, doc.RootElement);
        Assert.True(problems.Count == 0, string.Join("\n", problems) + "\n" + json);
    }
}
