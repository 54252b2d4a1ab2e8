//! `WasmKeyring`: one JS class for every keyring, so that multi-keyrings and
//! encryptors can take any of them.

use std::sync::Arc;

use fieldseal::keyring::kms::{KmsClient, KmsKeyId};
use fieldseal::keyring::{
    AwsKmsKeyring, AwsKmsMrkKeyring, DiscoveryFilter, MultiKeyring, RawAesKeyring,
    StaticBranchKeyKeyring,
};
use fieldseal::Keyring;
use wasm_bindgen::prelude::*;

use crate::args;
use crate::custom::JsKeyring;
use crate::error::to_js;
use crate::kms::JsKmsClient;

/// A keyring (key provider). Cheap to share: handles are reference counted.
#[wasm_bindgen]
pub struct WasmKeyring {
    inner: Arc<dyn Keyring>,
}

impl WasmKeyring {
    fn new(keyring: impl Keyring + 'static) -> WasmKeyring {
        WasmKeyring {
            inner: Arc::new(keyring),
        }
    }

    pub(crate) fn shared(&self) -> Arc<dyn Keyring> {
        self.inner.clone()
    }
}

#[wasm_bindgen]
impl WasmKeyring {
    /// Raw AES keyring; `wrappingKey` is 16, 24 or 32 bytes.
    #[wasm_bindgen(js_name = rawAes)]
    pub fn raw_aes(
        key_namespace: JsValue,
        key_name: JsValue,
        wrapping_key: JsValue,
    ) -> Result<WasmKeyring, JsValue> {
        let build = || -> fieldseal::Result<WasmKeyring> {
            let key = args::key_bytes(&wrapping_key, "wrappingKey")?;
            Ok(WasmKeyring::new(RawAesKeyring::new(
                &args::string(&key_namespace, "keyNamespace")?,
                &args::string(&key_name, "keyName")?,
                &key,
            )?))
        };
        build().map_err(to_js)
    }

    /// Raw RSA keyring. Without `privateKeyPem` it can only encrypt.
    #[wasm_bindgen(js_name = rawRsa)]
    pub fn raw_rsa(
        key_namespace: JsValue,
        key_name: JsValue,
        padding: JsValue,
        public_key_pem: JsValue,
        private_key_pem: JsValue,
    ) -> Result<WasmKeyring, JsValue> {
        #[cfg(feature = "rsa")]
        {
            use fieldseal::keyring::{RawRsaKeyring, RsaPadding};
            use zeroize::Zeroizing;
            let build = || -> fieldseal::Result<WasmKeyring> {
                let padding = RsaPadding::parse(&args::string(&padding, "padding")?)?;
                let public = args::optional_string(&public_key_pem, "publicKeyPem")?;
                let private =
                    args::optional_string(&private_key_pem, "privateKeyPem")?.map(Zeroizing::new);
                let keyring = RawRsaKeyring::new(
                    &args::string(&key_namespace, "keyNamespace")?,
                    &args::string(&key_name, "keyName")?,
                    padding,
                    public.as_deref(),
                    private.as_deref().map(String::as_str),
                )?;
                // OAEP decryption on the platform's constant-time RSA, where there is one.
                let platform = crate::webcrypto::WebCrypto::detect(0);
                Ok(WasmKeyring::new(match platform {
                    Some(platform) => keyring.with_oaep_provider(Arc::new(platform)),
                    None => keyring,
                }))
            };
            build().map_err(to_js)
        }
        #[cfg(not(feature = "rsa"))]
        {
            let _ = (
                key_namespace,
                key_name,
                padding,
                public_key_pem,
                private_key_pem,
            );
            Err(to_js(fieldseal::Error::InvalidConfig(
                "this build of fieldseal has no RSA support (feature \"rsa\")".into(),
            )))
        }
    }

    /// The hierarchical keyring's EDK format under a fixed 32-byte branch key.
    #[wasm_bindgen(js_name = staticBranchKey)]
    pub fn static_branch_key(
        branch_key_id: JsValue,
        branch_key_version: JsValue,
        branch_key: JsValue,
    ) -> Result<WasmKeyring, JsValue> {
        let build = || -> fieldseal::Result<WasmKeyring> {
            let key = args::key_bytes(&branch_key, "branchKey")?;
            Ok(WasmKeyring::new(StaticBranchKeyKeyring::new(
                &args::string(&branch_key_id, "branchKeyId")?,
                &args::string(&branch_key_version, "branchKeyVersion")?,
                &key,
            )?))
        };
        build().map_err(to_js)
    }

    /// A multi-keyring. Consumes the handles it is given; pass `share()`d ones.
    pub fn multi(
        generator: Option<WasmKeyring>,
        children: Vec<WasmKeyring>,
    ) -> Result<WasmKeyring, JsValue> {
        MultiKeyring::new(
            generator.map(|g| g.inner),
            children.into_iter().map(|c| c.inner).collect(),
        )
        .map(WasmKeyring::new)
        .map_err(to_js)
    }

    /// A keyring whose provider is a pair of JS callbacks (see wasm/README.md).
    pub fn custom(
        provider_id: JsValue,
        wrap_key: JsValue,
        unwrap_key: JsValue,
    ) -> Result<WasmKeyring, JsValue> {
        let build = || -> fieldseal::Result<WasmKeyring> {
            let provider_id = args::string(&provider_id, "providerId")?;
            Ok(WasmKeyring::new(JsKeyring::new(
                provider_id,
                wrap_key,
                unwrap_key,
            )?))
        };
        build().map_err(to_js)
    }

    /// An AWS KMS keyring. `kind` is "strict" or "mrk"; `region` is needed
    /// only when `keyId` is not an ARN; `kmsCall(region, operation, input)`
    /// runs a KMS command with the user's client.
    #[wasm_bindgen(js_name = awsKms)]
    pub fn aws_kms(
        kind: JsValue,
        key_id: JsValue,
        region: JsValue,
        grant_tokens: JsValue,
        kms_call: JsValue,
    ) -> Result<WasmKeyring, JsValue> {
        let build = || -> fieldseal::Result<WasmKeyring> {
            let key_id = args::string(&key_id, "kmsKeyId")?;
            let region = args::optional_string(&region, "region")?;
            let tokens = args::string_list(&grant_tokens, "grantTokens")?;
            let call = args::function(kms_call, "kmsCall")?;
            let key_region = match KmsKeyId::parse(&key_id)?.region() {
                Some(r) => r.to_string(),
                None => region.clone().unwrap_or_default(),
            };
            let client = Arc::new(JsKmsClient::new(key_region, call));
            let keyring = match args::string(&kind, "kind")?.as_str() {
                "strict" => AwsKmsKeyring::new(&key_id, region.as_deref(), client, tokens)?,
                "mrk" => AwsKmsKeyring::new_mrk(&key_id, region.as_deref(), client, tokens)?,
                other => {
                    return Err(fieldseal::Error::InvalidConfig(format!(
                        "unknown KMS keyring kind {other:?}"
                    )))
                }
            };
            Ok(WasmKeyring::new(keyring))
        };
        build().map_err(to_js)
    }

    /// A multi-keyring of MRK-aware KMS keyrings, one per ARN (the generator
    /// first). The core checks the rules (ARNs only, no two replicas of one
    /// multi-Region key), so JS and Rust reject the same configurations.
    #[wasm_bindgen(js_name = awsKmsMrkMulti)]
    pub fn aws_kms_mrk_multi(
        generator: JsValue,
        key_ids: JsValue,
        grant_tokens: JsValue,
        kms_call: JsValue,
    ) -> Result<WasmKeyring, JsValue> {
        let build = || -> fieldseal::Result<WasmKeyring> {
            let generator = args::optional_string(&generator, "generator")?;
            let key_ids = args::string_list(&key_ids, "kmsKeyIds")?;
            let tokens = args::string_list(&grant_tokens, "grantTokens")?;
            let call = args::function(kms_call, "kmsCall")?;
            let clients = move |region: &str| -> fieldseal::Result<Arc<dyn KmsClient>> {
                Ok(Arc::new(JsKmsClient::new(region.to_string(), call.clone())))
            };
            Ok(WasmKeyring::new(AwsKmsMrkKeyring::multi(
                generator.as_deref(),
                &key_ids,
                &clients,
                tokens,
            )?))
        };
        build().map_err(to_js)
    }

    /// An AWS KMS MRK-aware discovery keyring for `region` (decrypt only).
    /// `filterPartition` and `filterAccountIds` are both given or both absent.
    #[wasm_bindgen(js_name = awsKmsMrkDiscovery)]
    pub fn aws_kms_mrk_discovery(
        region: JsValue,
        filter_partition: JsValue,
        filter_account_ids: JsValue,
        grant_tokens: JsValue,
        kms_call: JsValue,
    ) -> Result<WasmKeyring, JsValue> {
        let build = || -> fieldseal::Result<WasmKeyring> {
            let region = args::string(&region, "region")?;
            let filter =
                match args::optional_string(&filter_partition, "discoveryFilter.partition")? {
                    Some(partition) => Some(DiscoveryFilter::new(
                        &partition,
                        args::string_list(&filter_account_ids, "discoveryFilter.accountIds")?,
                    )?),
                    None => None,
                };
            let tokens = args::string_list(&grant_tokens, "grantTokens")?;
            let call = args::function(kms_call, "kmsCall")?;
            let client = Arc::new(JsKmsClient::new(region.clone(), call));
            Ok(WasmKeyring::new(AwsKmsKeyring::new_mrk_discovery(
                &region, filter, client, tokens,
            )?))
        };
        build().map_err(to_js)
    }

    /// Another handle to the same keyring.
    pub fn share(&self) -> WasmKeyring {
        WasmKeyring {
            inner: self.inner.clone(),
        }
    }
}
