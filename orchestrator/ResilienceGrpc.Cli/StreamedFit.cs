using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.ServiceDefaults;

namespace ResilienceGrpc.Cli;

/// <summary>
/// The data of a streamed fit: the model (a <see cref="FitRequest"/> without data), the columns
/// as the caller's own arrays, and the row ids (none, or one per row).
/// </summary>
public sealed record StreamedData(
    FitRequest Model,
    IReadOnlyList<(string Name, ReadOnlyMemory<double> Values)> Columns,
    IReadOnlyList<string> RowIds
)
{
    /// <summary>Rows to send: the longest column's (a ragged column is sent as it is, and refused by the service).</summary>
    public int Rows => Columns.Count == 0 ? 0 : Columns.Max(c => c.Values.Length);

    /// <summary>The data of a whole request (its values copied out once).</summary>
    public static StreamedData Of(FitRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var model = request.Clone();
        model.Columns.Clear();
        model.RowIds.Clear();
        return new StreamedData(
            model,
            request.Columns.Select(c => (c.Name, (ReadOnlyMemory<double>)c.Values.ToArray())).ToList(),
            request.RowIds.ToList()
        );
    }
}

/// <summary>
/// One chunk of a streamed fit: rows <see cref="Start"/> to <see cref="Start"/> + <see cref="Count"/>
/// of every column, and the model when <see cref="First"/>.
/// </summary>
public sealed record StreamedChunk(StreamedData Data, int Start, int Count, bool First);

/// <summary>
/// <c>FitStream</c> with chunks written straight from the caller's arrays into the call's
/// buffer, in the wire format of <see cref="FitRequest"/> (the service parses them with the
/// generated parser): no slice, no <c>RepeatedField</c> and no serialised copy per chunk, which
/// on the development VM were most of a large stream's client time. A packed <c>repeated
/// double</c> is the values' little-endian bytes, so a column's slice is copied as bytes.
/// </summary>
public static class StreamedFit
{
    /// <summary><c>resilience.regression.v1.RegressionService/FitStream</c> with this writer as its request marshaller.</summary>
    public static readonly Method<StreamedChunk, FitResponse> Method = new(
        MethodType.ClientStreaming,
        GrpcChannels.StreamedService,
        GrpcChannels.StreamedMethod,
        new Marshaller<StreamedChunk>(Serialize, _ => throw new NotSupportedException("Chunks are only written.")),
        new Marshaller<FitResponse>(
            (response, context) => context.Complete(response.ToByteArray()),
            context => FitResponse.Parser.ParseFrom(context.PayloadAsReadOnlySequence())
        )
    );

    private const int LengthDelimited = 2;

    private static void Serialize(StreamedChunk chunk, SerializationContext context)
    {
        context.SetPayloadLength(checked((int)Size(chunk)));
        Write(chunk, context.GetBufferWriter());
        context.Complete();
    }

    /// <summary>The chunk's size on the wire, in bytes (all the rows as one chunk: the whole request's).</summary>
    public static long Size(StreamedChunk chunk)
    {
        long size = chunk.First ? chunk.Data.Model.CalculateSize() : 0;
        foreach (var id in Ids(chunk))
            size += 1 + CodedOutputStream.ComputeStringSize(id);
        foreach (var (name, values) in chunk.Data.Columns)
        {
            int body = ColumnBody(name, Slice(values, chunk).Length);
            size += 1 + CodedOutputStream.ComputeLengthSize(body) + body;
        }
        return size;
    }

    /// <summary>Writes the chunk as a <see cref="FitRequest"/> (fields in any order parse the same).</summary>
    public static void Write(StreamedChunk chunk, IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (chunk.First)
        {
            int header = chunk.Data.Model.CalculateSize();
            var span = writer.GetSpan(header);
            chunk.Data.Model.WriteTo(span[..header]);
            writer.Advance(header);
        }
        foreach (var id in Ids(chunk))
            WriteString(writer, FitRequest.RowIdsFieldNumber, id);
        foreach (var (name, values) in chunk.Data.Columns)
        {
            var slice = Slice(values, chunk);
            WriteTag(writer, FitRequest.ColumnsFieldNumber);
            WriteVarint(writer, (uint)ColumnBody(name, slice.Length));
            if (name.Length > 0)
                WriteString(writer, Column.NameFieldNumber, name);
            if (slice.Length == 0)
                continue;
            WriteTag(writer, Column.ValuesFieldNumber);
            WriteVarint(writer, (uint)(slice.Length * sizeof(double)));
            WriteDoubles(writer, slice);
        }
    }

    private static IEnumerable<string> Ids(StreamedChunk chunk)
    {
        var ids = chunk.Data.RowIds;
        int end = Math.Min(ids.Count, chunk.Start + chunk.Count);
        for (int i = chunk.Start; i < end; i++)
            yield return ids[i];
    }

    /// <summary>The chunk's rows of one column (fewer, or none, past a short column's end).</summary>
    private static ReadOnlySpan<double> Slice(ReadOnlyMemory<double> values, StreamedChunk chunk)
    {
        int start = Math.Min(chunk.Start, values.Length);
        return values.Span.Slice(start, Math.Min(chunk.Count, values.Length - start));
    }

    private static int ColumnBody(string name, int values)
    {
        int body = name.Length > 0 ? 1 + CodedOutputStream.ComputeStringSize(name) : 0;
        if (values > 0)
            body += 1 + CodedOutputStream.ComputeLengthSize(values * sizeof(double)) + values * sizeof(double);
        return body;
    }

    private static void WriteTag(IBufferWriter<byte> writer, int field) =>
        WriteVarint(writer, (uint)((field << 3) | LengthDelimited));

    private static void WriteVarint(IBufferWriter<byte> writer, uint value)
    {
        var span = writer.GetSpan(5);
        int n = 0;
        while (value >= 0x80)
        {
            span[n++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[n++] = (byte)value;
        writer.Advance(n);
    }

    private static void WriteString(IBufferWriter<byte> writer, int field, string value)
    {
        WriteTag(writer, field);
        int bytes = Encoding.UTF8.GetByteCount(value);
        WriteVarint(writer, (uint)bytes);
        var span = writer.GetSpan(bytes);
        Encoding.UTF8.GetBytes(value, span);
        writer.Advance(bytes);
    }

    private static void WriteDoubles(IBufferWriter<byte> writer, ReadOnlySpan<double> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            var bytes = MemoryMarshal.AsBytes(values);
            while (bytes.Length > 0)
            {
                var span = writer.GetSpan(1);
                int n = Math.Min(span.Length, bytes.Length);
                bytes[..n].CopyTo(span);
                writer.Advance(n);
                bytes = bytes[n..];
            }
            return;
        }
        foreach (var v in values)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(writer.GetSpan(sizeof(double)), v);
            writer.Advance(sizeof(double));
        }
    }
}
