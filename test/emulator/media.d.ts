// The emulator's fixtures as its wrangler Data rule types them (emulator/worker-configuration.d.ts),
// for the unit tests that import emulator modules serving them.
declare module "*.mp4" {
  const value: ArrayBuffer;
  export default value;
}
declare module "*.m4a" {
  const value: ArrayBuffer;
  export default value;
}
declare module "*.jpg" {
  const value: ArrayBuffer;
  export default value;
}
