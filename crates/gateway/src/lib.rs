//! The ork gateway: admission (validate, mutate), conversion, deletion and namespace protection, TLS material and the webhook-configuration lifecycle.
