/* eslint-disable @typescript-eslint/no-implied-eval -- these tests build methods from
   generated parameter lists with `new Function`, which is the input under test */
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { InvalidOptionError, RouteConventionError } from '../../src/errors'
import { asValue, createContainer } from 'awilix'
import express from 'express'
import { BackgroundJobs } from '../../src/background-jobs'
import { mapServices } from '../../src/express/map-services'
import { getServiceRoutes, type ServiceClass } from '../../src/express/route-conventions'

/** A service class with one method named `methodName` and a class named `className`. */
function serviceWith(className: string, methodName: string, parameters = 'id'): ServiceClass {
  const service = class {}
  Object.defineProperty(service, 'name', { value: className })
  Object.defineProperty(service.prototype, methodName, {
    value: new Function(parameters, 'return null'),
    writable: true,
    configurable: true,
  })
  return service
}

/** What the conventions promise to accept: `/`-separated segments Express takes literally. */
function isValidPath(value: unknown, allowParams: boolean): boolean {
  if (typeof value !== 'string') return false
  return value
    .split('/')
    .filter((segment) => segment !== '')
    .every((segment) => /^[\p{L}\p{N}_$.~-]+$/u.test(segment) || (allowParams && /^:[A-Za-z_$][\w$]*$/.test(segment)))
}

describe('route conventions under arbitrary input', () => {
  // mapServices needs a container holding a manager; these tests only map routes.
  const container = createContainer()
  container.register('backgroundJobManager', asValue({}))

  after(() => BackgroundJobs.reset())

  it('either maps a method of any name to a clean path or throws RouteConventionError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), fc.string({ maxLength: 30 }), (className, methodName) => {
        try {
          const service = serviceWith(className, methodName)
          const router = express.Router()
          mapServices(router, [service], { container })
          for (const route of getServiceRoutes(service)) {
            assert.match(route.path, /^\/[^\s?#]*$/)
            assert.ok(['GET', 'POST', 'PUT', 'DELETE', 'ALL'].includes(route.method))
          }
        } catch (error) {
          assert.ok(error instanceof RouteConventionError, `unexpected ${String(error)}`)
          assert.match(error.message, /Rename|routeOptions|Expected `/)
        }
      }),
      { numRuns: 500 },
    )
  })

  it('accepts every valid option value and rejects every other with InvalidOptionError naming the option', () => {
    const option = fc.constantFrom(
      'prefix',
      'version',
      'serviceName',
      'baseUri',
      'pluralizeServiceName',
      'autoAppendId',
    )
    const value = fc.oneof(fc.anything(), fc.string({ maxLength: 12 }), fc.boolean())
    fc.assert(
      fc.property(option, value, (name, raw) => {
        const options = { [name]: raw }
        const isBooleanOption = name === 'pluralizeServiceName' || name === 'autoAppendId'
        const nonEmpty = typeof raw === 'string' && raw.replace(/^\/+|\/+$/g, '') !== ''
        const shouldPass =
          raw === undefined ||
          (isBooleanOption
            ? typeof raw === 'boolean'
            : isValidPath(raw, name === 'baseUri') &&
              (name === 'prefix' || name === 'version' || nonEmpty || (name === 'baseUri' && raw !== '')))
        const service = serviceWith('OrderService', 'getListAsync', '')
        Object.assign(service, { routeOptions: options })
        try {
          // Registering the routes in Express proves the accepted values are valid route patterns.
          mapServices(express.Router(), [service], { container })
          assert.ok(shouldPass, `accepted ${name}=${JSON.stringify(raw)}`)
        } catch (error) {
          assert.ok(!shouldPass, `rejected good ${name}=${JSON.stringify(raw)}: ${String(error)}`)
          assert.ok(error instanceof InvalidOptionError || error instanceof RouteConventionError, String(error))
          assert.ok(error.message.includes(name), error.message)
        }
      }),
      { numRuns: 1000 },
    )
  })
})
