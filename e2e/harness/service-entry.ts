import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Cluster } from './cluster.ts';

/**
 * The public entry of an environment, for a cluster that has no ingress controller and no DNS for its hosts: a TCP
 * listener on 127.0.0.1 whose every connection goes to a Service's ClusterIP (looked up when the connection arrives,
 * so it may be created after the entry), through kube-proxy to the real pods. It stands where the environment URL's
 * load balancer and ingress would be; what answers is the deployed release.
 */
export interface ServiceEntry {
  /** http://127.0.0.1:<port> */
  url: string;
  stop(): Promise<void>;
}

export async function startServiceEntry(
  cluster: Cluster,
  target: { namespace: string; service: string; port: number },
): Promise<ServiceEntry> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.pause();
    cluster
      .api<{ spec?: { clusterIP?: string } }>(
        'GET',
        `/api/v1/namespaces/${target.namespace}/services/${target.service}`,
        undefined,
        [404],
      )
      .then(
        ({ body }) => {
          const ip = body?.spec?.clusterIP;
          if (!ip) {
            client.destroy();
            return;
          }
          const upstream = connect(target.port, ip);
          sockets.add(upstream);
          upstream.on('close', () => sockets.delete(upstream));
          upstream.on('error', () => client.destroy());
          client.on('error', () => upstream.destroy());
          client.pipe(upstream).pipe(client);
          client.resume();
        },
        () => client.destroy(),
      );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
