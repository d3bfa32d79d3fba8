/** aedes-persistence-redis ships no types; the tests use only its factory and destroy(). */
declare module "aedes-persistence-redis" {
  interface RedisPersistence {
    destroy(): Promise<void>;
  }
  function aedesPersistenceRedis(options?: { host?: string; port?: number }): RedisPersistence;
  export default aedesPersistenceRedis;
}
