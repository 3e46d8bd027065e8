// A lean stand-in for @grpc/proto-loader's `fromJSON`, swapped into etcd3 by etcd3-proto-plugin.ts.
// proto-loader also builds descriptor protos for reflection, which etcd3 never uses and which cost
// several MB per process; here each service method gets only what grpc-js calls: path, streaming
// flags and (de)serialisers, with proto-loader's conversion options.
import { Root, Service, type IConversionOptions, type INamespace, type Type } from 'protobufjs/light.js';

interface MethodDefinition {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestSerialize(value: object): Buffer;
  requestDeserialize(bytes: Buffer): object;
  responseSerialize(value: object): Buffer;
  responseDeserialize(bytes: Buffer): object;
  originalName: string;
}

const serialize = (type: Type) => (value: object) => Buffer.from(type.encode(type.fromObject(value)).finish());
const deserialize = (type: Type, options: IConversionOptions) => (bytes: Buffer) => type.toObject(type.decode(bytes), options);

function servicesOf(root: Root): Service[] {
  const found: Service[] = [];
  const visit = (ns: { nestedArray: unknown[] }) => {
    for (const child of ns.nestedArray) {
      if (child instanceof Service) found.push(child);
      else if (child && typeof child === 'object' && 'nestedArray' in child) visit(child as { nestedArray: unknown[] });
    }
  };
  visit(root);
  return found;
}

/** Same signature and service entries as proto-loader's `fromJSON` (message type entries omitted). */
export function fromJSON(json: INamespace, options: IConversionOptions): Record<string, Record<string, MethodDefinition>> {
  const root = Root.fromJSON(json);
  root.resolveAll();
  const definition: Record<string, Record<string, MethodDefinition>> = {};
  for (const service of servicesOf(root)) {
    const serviceName = service.fullName.replace(/^\./, '');
    const methods: Record<string, MethodDefinition> = {};
    for (const method of service.methodsArray) {
      const request = method.resolvedRequestType as Type;
      const response = method.resolvedResponseType as Type;
      methods[method.name] = {
        path: `/${serviceName}/${method.name}`,
        requestStream: Boolean(method.requestStream),
        responseStream: Boolean(method.responseStream),
        requestSerialize: serialize(request),
        requestDeserialize: deserialize(request, options),
        responseSerialize: serialize(response),
        responseDeserialize: deserialize(response, options),
        // etcd3 calls methods by their lower camel case name (`range`, `leaseGrant`), as proto-loader aliases them.
        originalName: method.name.charAt(0).toLowerCase() + method.name.slice(1),
      };
    }
    definition[serviceName] = methods;
  }
  return definition;
}
