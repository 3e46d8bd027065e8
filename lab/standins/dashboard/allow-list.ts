// conf.allow_list: addresses and CIDRs admitted to the manager API; an empty list admits everyone.
import { BlockList, isIPv4, isIPv6 } from 'node:net';

export type AddressCheck = (address: string) => boolean;

export function allowListCheck(entries: string[]): AddressCheck {
  if (entries.length === 0) return () => true;
  const list = new BlockList();
  for (const entry of entries) {
    const [address, bits] = entry.split('/');
    const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
    if (!family) throw new Error(`allow_list: not an IP address or CIDR: ${entry}`);
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return (address) => {
    const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
    return family !== undefined && list.check(address, family);
  };
}
