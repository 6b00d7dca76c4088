using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Google.Protobuf;
using ResilienceGrpc.Cli;
using ResilienceGrpc.Contracts.Regression.V1;
using ResilienceGrpc.ServiceDefaults;
using Xunit;

namespace ResilienceGrpc.Api.Tests;

/// <summary>
/// The CLI writes a streamed fit's chunks itself, straight from its arrays (<see cref="StreamedFit"/>).
/// Whatever the data, a chunk's bytes are exactly the size announced and parse, with the
/// generated parser the service uses, into the <see cref="FitRequest"/> that Google.Protobuf's
/// own serialiser would have sent for those rows: the same model (first chunk only), row ids,
/// names and values to the bit.
/// </summary>
public class StreamedChunkProperties
{
    private static readonly string[] Names = ["y", "x", "", "ünïcode", "a*b", new string('n', 200), "\u202E"];

    private static readonly double[] Specials =
    [
        double.NaN,
        -0.0,
        double.Epsilon,
        double.MaxValue,
        double.NegativeInfinity,
        1e-310,
    ];

    private static Gen<double> Value =>
        Gen.Frequency((6, Gen.Choose(-1_000_000, 1_000_000).Select(i => i / 7.0)), (1, Gen.Elements(Specials)));

    private static Arbitrary<(StreamedData Data, int Start, int Count)> Cases() =>
        (
            from columns in Gen.Choose(0, 5)
            from rows in Gen.Choose(0, 40)
            from lengths in Gen.ArrayOf(Gen.Choose(Math.Max(0, rows - 3), rows), columns)
            from names in Gen.ArrayOf(Gen.Elements(Names), columns)
            from values in Gen.ArrayOf(Value, columns * rows)
            from withIds in Gen.Elements(true, false)
            from start in Gen.Choose(0, rows)
            from count in Gen.Choose(0, 40)
            from tolerance in Gen.Elements<double?>(null, 1e-9)
            select (
                new StreamedData(
                    Model(tolerance),
                    Enumerable
                        .Range(0, columns)
                        .Select(c => (names[c], (ReadOnlyMemory<double>)values.Skip(c * rows).Take(lengths[c]).ToArray()))
                        .ToList(),
                    withIds ? Enumerable.Range(0, rows).Select(i => $"r{i}·").ToList() : []
                ),
                start,
                count
            )
        ).ToArbitrary();

    private static FitRequest Model(double? tolerance)
    {
        var model = new FitRequest
        {
            Dependent = "y",
            Regressors = { "x", "a*b" },
            CovarianceType = CovarianceType.Hc3,
            Bootstrap = new BootstrapOptions { Replications = 99, Seed = 7 },
            Influence = true,
        };
        if (tolerance is { } t)
            model.Tolerance = t;
        return model;
    }

    /// <summary>What Google.Protobuf's serialiser would send for these rows.</summary>
    private static FitRequest Expected(StreamedData data, int start, int count, bool first)
    {
        var expected = first ? data.Model.Clone() : new FitRequest();
        expected.RowIds.AddRange(data.RowIds.Skip(start).Take(count));
        foreach (var (name, values) in data.Columns)
            expected.Columns.Add(new Column { Name = name, Values = { values.ToArray().Skip(start).Take(count) } });
        return expected;
    }

    [Property(MaxTest = 300)]
    public Property AChunkParsesIntoTheRequestTheGeneratedSerialiserWouldSend() =>
        Prop.ForAll(
            Cases(),
            c =>
            {
                foreach (var first in new[] { true, false })
                {
                    var chunk = new StreamedChunk(c.Data, c.Start, c.Count, first);
                    var buffer = new ArrayBufferWriter<byte>(1);
                    StreamedFit.Write(chunk, buffer);
                    var expected = Expected(c.Data, c.Start, c.Count, first);
                    Assert.Equal(StreamedFit.Size(chunk), buffer.WrittenCount);
                    var parsed = FitRequest.Parser.ParseFrom(buffer.WrittenSpan);
                    // Equal compares doubles bitwise (NaN equals NaN, -0 differs from 0).
                    Assert.Equal(expected, parsed);
                    Assert.Equal(expected.ToByteArray().Length, buffer.WrittenCount);
                }
            }
        );

    [Fact]
    public void TheWriterAndTheChannelsRetryExceptionNameTheProtosStreamedMethod()
    {
        // The writer's method and the channel's no-retry entry are both GrpcChannels' names; they
        // must be the proto's client-streaming fit, or the call and the exception go nowhere.
        var method = RegressionService.Descriptor.FindMethodByName(GrpcChannels.StreamedMethod);
        Assert.NotNull(method);
        Assert.Equal(GrpcChannels.StreamedService, RegressionService.Descriptor.FullName);
        Assert.True(method.IsClientStreaming && !method.IsServerStreaming);
        Assert.Equal(method.FullName, StreamedFit.Method.FullName.TrimStart('/').Replace('/', '.'));
    }

    [Fact]
    public void ALargeChunkSpansManyBufferSegments()
    {
        // 100,000 values per column (800 kB) written through 4 kB segments.
        var rng = new Random(3);
        var data = new StreamedData(
            Model(null),
            [("y", Enumerable.Range(0, 100_000).Select(_ => rng.NextDouble()).ToArray()), ("x", new double[100_000])],
            []
        );
        var chunk = new StreamedChunk(data, 0, 100_000, true);
        var writer = new SegmentWriter();
        StreamedFit.Write(chunk, writer);
        Assert.Equal(StreamedFit.Size(chunk), writer.Written.Count);
        Assert.Equal(Expected(data, 0, 100_000, true), FitRequest.Parser.ParseFrom(writer.Written.ToArray()));
    }

    /// <summary>A writer that hands out at most 4 kB at a time, as a pipe does.</summary>
    private sealed class SegmentWriter : IBufferWriter<byte>
    {
        private byte[] segment = [];
        public List<byte> Written { get; } = [];

        public void Advance(int count) => Written.AddRange(segment.AsSpan(0, count).ToArray());

        public Memory<byte> GetMemory(int sizeHint = 0) => segment = new byte[Math.Max(sizeHint, 4096)];

        public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;
    }
}
