/**
 * Host inventory for the heartbeat, read below a root directory (never the network metadata service): hostname,
 * cloud instance id (cloud-init's record, else the DMI board asset tag / product UUID), cloud, OS, CPU count.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, hostname as osHostname } from 'node:os';
import { join } from 'node:path';

export interface Inventory {
  hostname?: string;
  instance_id?: string;
  cloud?: string;
  os?: string;
  cpus?: number;
}

function read(root: string, path: string): string | undefined {
  try {
    const s = readFileSync(join(root, path), 'utf8').trim();
    return s || undefined;
  } catch {
    return undefined;
  }
}

/** Pure: which cloud a DMI vendor/product names. */
export function cloudOf(vendor = '', product = '', assetTag = ''): string | undefined {
  const s = `${vendor} ${product}`.toLowerCase();
  if (s.includes('amazon') || /^i-[0-9a-f]{8,17}$/.test(assetTag)) return 'aws';
  if (s.includes('google')) return 'gcp';
  if (s.includes('microsoft')) return 'azure';
  if (s.includes('digitalocean')) return 'digitalocean';
  if (s.includes('hetzner')) return 'hetzner';
  if (s.includes('alibaba')) return 'alibaba';
  if (s.includes('openstack')) return 'openstack';
  if (s.includes('oraclecloud') || s.includes('oracle')) return 'oci';
  return undefined;
}

/** Pure: PRETTY_NAME (or NAME VERSION) from os-release text. */
export function osName(osRelease: string | undefined): string | undefined {
  if (!osRelease) return undefined;
  const get = (k: string) => new RegExp(`^${k}=("?)(.*)\\1$`, 'm').exec(osRelease)?.[2];
  return get('PRETTY_NAME') ?? ([get('NAME'), get('VERSION')].filter(Boolean).join(' ') || undefined);
}

export function readInventory(root = '/'): Inventory {
  const live = root === '/';
  const hostname = read(root, 'etc/hostname')?.split('\n')[0] ?? (live ? osHostname() : undefined);
  const assetTag = read(root, 'sys/class/dmi/id/board_asset_tag') ?? '';
  const vendor = read(root, 'sys/class/dmi/id/sys_vendor');
  const product = read(root, 'sys/class/dmi/id/product_name');
  const cloudInit = read(root, 'var/lib/cloud/data/instance-id');
  const uuid = read(root, 'sys/class/dmi/id/product_uuid');
  // cloud-init's id is the provider's own; an EC2 Nitro asset tag is the instance id; the DMI UUID last.
  const instance_id =
    (cloudInit && cloudInit !== 'iid-datasource-none' ? cloudInit : undefined) ??
    (/^i-[0-9a-f]{8,17}$/.test(assetTag) ? assetTag : undefined) ??
    uuid?.toLowerCase();
  const cpuinfo = read(root, 'proc/cpuinfo');
  const cpus = live
    ? availableParallelism()
    : cpuinfo
      ? (cpuinfo.match(/^processor\s*:/gm) ?? []).length || undefined
      : undefined;
  const inv: Inventory = {};
  if (hostname) inv.hostname = hostname;
  if (instance_id) inv.instance_id = instance_id;
  const cloud = cloudOf(vendor, product, assetTag);
  if (cloud) inv.cloud = cloud;
  const os = osName(read(root, 'etc/os-release') ?? read(root, 'usr/lib/os-release'));
  if (os) inv.os = os;
  if (cpus) inv.cpus = cpus;
  return inv;
}
