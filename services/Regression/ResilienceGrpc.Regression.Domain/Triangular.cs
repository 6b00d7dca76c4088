namespace ResilienceGrpc.Regression.Domain;

/// <summary>Solves with an upper-triangular R (r × r, row-major <c>[i, j]</c>) by substitution.</summary>
internal static class Triangular
{
    /// <summary>x with R x = b (back substitution).</summary>
    public static double[] SolveUpper(double[,] r, ReadOnlySpan<double> b)
    {
        int k = b.Length;
        var x = new double[k];
        for (int i = k - 1; i >= 0; i--)
        {
            double s = b[i];
            for (int j = i + 1; j < k; j++)
                s -= r[i, j] * x[j];
            x[i] = s / r[i, i];
        }
        return x;
    }

    /// <summary>x with Rᵀ x = b (forward substitution).</summary>
    public static double[] SolveUpperTransposed(double[,] r, ReadOnlySpan<double> b)
    {
        int k = b.Length;
        var x = new double[k];
        for (int i = 0; i < k; i++)
        {
            double s = b[i];
            for (int j = 0; j < i; j++)
                s -= r[j, i] * x[j];
            x[i] = s / r[i, i];
        }
        return x;
    }

    /// <summary>R⁻¹, by back substitution on the unit vectors.</summary>
    public static double[,] InvertUpper(double[,] r)
    {
        int k = r.GetLength(0);
        var inv = new double[k, k];
        var e = new double[k];
        for (int c = 0; c < k; c++)
        {
            Array.Clear(e);
            e[c] = 1.0;
            var x = SolveUpper(r, e);
            for (int i = 0; i < k; i++)
                inv[i, c] = x[i];
        }
        return inv;
    }
}
