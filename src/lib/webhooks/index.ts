/** Standard Webhooks signing/verification, the verifying middleware and the signed client. */
export * from "./standard-webhooks.js";
export * from "./errors.js";
export { SignedCallError, SignedClient, type SignedClientOptions } from "./client.js";
export { signedJson, verifySignature, type SignedEnv, type SignedRequest } from "./middleware.js";
