//! Multi-keyring. Spec: framework/multi-keyring.md; reference code: MPL
//! `Keyrings/MultiKeyring.dfy`.
//!
//! On encrypt the generator (if any) makes the data key and its EDK, then every
//! child adds its own EDK for the same data key. On decrypt the generator and
//! then each child is tried, in order, until one yields the data key; if none
//! does, the error lists every child's, and is a key provider failure when
//! any child's provider failed.

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::{Error, Result};
use crate::keyring::provider::{providers_seen, FailureCode};
use crate::keyring::Keyring;
use crate::materials::{DecryptionMaterials, EncryptedDataKey, EncryptionMaterials};
use crate::primitives::ct_eq;

/// A keyring made of a generator keyring and/or child keyrings.
pub struct MultiKeyring {
    generator: Option<Arc<dyn Keyring>>,
    children: Vec<Arc<dyn Keyring>>,
}

impl MultiKeyring {
    pub fn new(
        generator: Option<Arc<dyn Keyring>>,
        children: Vec<Arc<dyn Keyring>>,
    ) -> Result<Self> {
        if generator.is_none() && children.is_empty() {
            return Err(Error::InvalidConfig(
                "a multi-keyring needs a generator keyring and/or at least one child keyring"
                    .into(),
            ));
        }
        Ok(MultiKeyring {
            generator,
            children,
        })
    }

    fn keyrings(&self) -> impl Iterator<Item = (String, &Arc<dyn Keyring>)> {
        self.generator
            .iter()
            .map(|g| ("generator".to_owned(), g))
            .chain(
                self.children
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (format!("child #{i}"), c)),
            )
    }
}

impl std::fmt::Debug for MultiKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MultiKeyring")
            .field("has_generator", &self.generator.is_some())
            .field("children", &self.children.len())
            .finish()
    }
}

/// Check what a child (possibly foreign) keyring returned on encrypt: same
/// suite and context, same data key, EDKs and signing keys only appended.
fn check_encrypt_transition(
    before: &EncryptionMaterials,
    after: &EncryptionMaterials,
    who: &str,
) -> Result<()> {
    let fail = |what: &str| {
        Err(Error::KeyProviderFailure(format!(
            "multi-keyring: {who} returned invalid encryption materials: {what}"
        )))
    };
    if after.suite != before.suite
        || after.encryption_context != before.encryption_context
        || after.required_encryption_context_keys != before.required_encryption_context_keys
    {
        return fail("it changed the suite or the encryption context");
    }
    let Some(new_key) = &after.plaintext_data_key else {
        return fail("it holds no data key");
    };
    if let Some(old_key) = &before.plaintext_data_key {
        if !ct_eq(old_key.expose(), new_key.expose()) {
            return fail("it replaced the data key");
        }
    }
    let n = before.encrypted_data_keys.len();
    if after.encrypted_data_keys.len() != after.symmetric_signing_keys.len()
        || after.encrypted_data_keys.len() <= n
        || after.encrypted_data_keys[..n] != before.encrypted_data_keys[..]
    {
        return fail("it did not append exactly matching EDKs and signing keys");
    }
    Ok(())
}

#[async_trait(?Send)]
impl Keyring for MultiKeyring {
    async fn on_encrypt(&self, mut materials: EncryptionMaterials) -> Result<EncryptionMaterials> {
        match (&self.generator, &materials.plaintext_data_key) {
            (None, None) => {
                return Err(Error::InvalidConfig(
                    "a multi-keyring without a generator needs materials that already hold a \
                     data key"
                        .into(),
                ))
            }
            (Some(_), Some(_)) => {
                return Err(Error::InvalidConfig(
                    "this multi-keyring has a generator, but the materials already hold a data key"
                        .into(),
                ))
            }
            _ => {}
        }
        for (who, keyring) in self.keyrings() {
            let before = materials.clone();
            materials = keyring.on_encrypt(materials).await?;
            check_encrypt_transition(&before, &materials, &who)?;
        }
        Ok(materials)
    }

    async fn on_decrypt(
        &self,
        materials: DecryptionMaterials,
        encrypted_data_keys: &[EncryptedDataKey],
    ) -> Result<DecryptionMaterials> {
        if materials.plaintext_data_key.is_some() {
            return Ok(materials);
        }
        let mut failures = Vec::new();
        let mut code = FailureCode::default();
        for (who, keyring) in self.keyrings() {
            match keyring
                .on_decrypt(materials.clone(), encrypted_data_keys)
                .await
            {
                Ok(out) if out.plaintext_data_key.is_some() && out.suite == materials.suite => {
                    return Ok(out)
                }
                Ok(_) => failures.push(format!("{who}: returned no data key")),
                Err(Error::NoMatchingKey { detail, .. }) => {
                    failures.push(format!("{who}: {detail}"))
                }
                Err(e) => {
                    code.child_failed(&e);
                    failures.push(format!("{who}: {e}"))
                }
            }
        }
        let detail = format!("multi-keyring: [{}]", failures.join(" | "));
        // The children's codes by the keyrings' one rule: a provider outage,
        // then a record that did not verify, else no matching key.
        Err(code.error(detail, |detail| Error::NoMatchingKey {
            providers_seen: providers_seen(encrypted_data_keys),
            detail,
        }))
    }
}
