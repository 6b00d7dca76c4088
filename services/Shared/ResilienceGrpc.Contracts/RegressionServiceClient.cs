using Grpc.Core;

namespace ResilienceGrpc.Contracts.Regression.V1;

public static partial class RegressionService
{
    public partial class RegressionServiceClient
    {
        /// <summary>
        /// The client's call invoker, for a call through a method with the caller's own
        /// marshaller: the CLI writes a streamed fit's chunks straight from its arrays.
        /// </summary>
        public CallInvoker Invoker => CallInvoker;
    }
}
