namespace ResilienceGrpc.Client.Reporting;

/// <summary>
/// Where each point's label goes on a static figure, so that no two labels overlap, no label
/// covers another point's marker and none leaves the plot area: above its point, else below,
/// to the right or to the left; a label with no free spot is left out (the point keeps its
/// marker, and every city is in the tables and in report.html's hover text). Greedy in the
/// points' order, so the same figure always gets the same labels. Sizes are pixels, y down.
/// </summary>
internal static class LabelPlacement
{
    /// <summary>Where a label sits against its point.</summary>
    internal enum Spot
    {
        Above,
        Below,
        Right,
        Left,
        None,
    }

    /// <summary>A rectangle in pixels (y grows downwards).</summary>
    internal readonly record struct Box(double Left, double Top, double Right, double Bottom)
    {
        public bool Overlaps(Box other) =>
            Left < other.Right && other.Left < Right && Top < other.Bottom && other.Top < Bottom;

        public bool Inside(Box area) =>
            Left >= area.Left && Right <= area.Right && Top >= area.Top && Bottom <= area.Bottom;
    }

    /// <summary>
    /// A label's size at <paramref name="fontSize"/> pixels, on the generous side: 0.6 em per
    /// Latin character, 1 em for any other (CJK names), 1.25 em high.
    /// </summary>
    public static (double Width, double Height) Size(string text, double fontSize) =>
        (fontSize * text.Sum(c => c < 0x250 ? 0.6 : 1.0), 1.25 * fontSize);

    /// <summary>The box of a label of the given size at <paramref name="spot"/>, <paramref name="gap"/> pixels off its point.</summary>
    public static Box At(Spot spot, double x, double y, double width, double height, double gap) =>
        spot switch
        {
            Spot.Above => new(x - width / 2, y - gap - height, x + width / 2, y - gap),
            Spot.Below => new(x - width / 2, y + gap, x + width / 2, y + gap + height),
            Spot.Right => new(x + gap, y - height / 2, x + gap + width, y + height / 2),
            Spot.Left => new(x - gap - width, y - height / 2, x - gap, y + height / 2),
            _ => throw new ArgumentOutOfRangeException(nameof(spot)),
        };

    /// <summary>The spot of every label (<see cref="Spot.None"/> when it is left out).</summary>
    public static Spot[] Place(
        IReadOnlyList<(double X, double Y, double Width, double Height)> labels,
        Box area,
        double markerRadius,
        double gap
    )
    {
        ArgumentNullException.ThrowIfNull(labels);
        var markers = labels
            .Select(l => new Box(l.X - markerRadius, l.Y - markerRadius, l.X + markerRadius, l.Y + markerRadius))
            .ToArray();
        var placed = new List<Box>();
        var spots = new Spot[labels.Count];
        for (int i = 0; i < labels.Count; i++)
        {
            spots[i] = Spot.None;
            var (x, y, width, height) = labels[i];
            foreach (var spot in (Spot[])[Spot.Above, Spot.Below, Spot.Right, Spot.Left])
            {
                var box = At(spot, x, y, width, height, gap);
                if (!box.Inside(area) || placed.Any(box.Overlaps))
                    continue;
                bool coversMarker = false;
                for (int j = 0; j < markers.Length && !coversMarker; j++)
                    coversMarker = j != i && markers[j].Overlaps(box);
                if (coversMarker)
                    continue;
                placed.Add(box);
                spots[i] = spot;
                break;
            }
        }
        return spots;
    }
}
