//! Storage declarations: PersistentVolumeClaim and PersistentVolume.

use super::declare::declaration;
use super::*;

declaration! {
    /// One PersistentVolumeClaim (`persistentVolumeClaims:`). Default name `<cr>-pvc`.
    pub struct PvcDecl {
        /// Storage class.
        #[serde(alias = "storageClass")]
        pub storage_class_name: Option<Text>,
        /// Access modes (default ReadWriteOnce).
        pub access_modes: Vec<Text>,
        /// Requested size, e.g. `1Gi`.
        #[serde(alias = "size", alias = "storageSize")]
        pub storage: Option<Text>,
        /// Filesystem (default) or Block.
        pub volume_mode: Option<Text>,
        /// Bind to this PersistentVolume.
        pub volume_name: Option<Text>,
    }
}

declaration! {
    /// One PersistentVolume (`persistentVolumes:`, cluster-scoped). Default name `<cr>-pv`.
    pub struct PvDecl {
        /// Storage class.
        #[serde(alias = "storageClass")]
        pub storage_class_name: Option<Text>,
        /// Access modes (default ReadWriteOnce).
        pub access_modes: Vec<Text>,
        /// Capacity, e.g. `10Gi`.
        #[serde(alias = "capacity", alias = "size", alias = "storageSize")]
        pub storage: Option<Text>,
        /// Retain (default), Delete or Recycle.
        pub reclaim_policy: Option<Text>,
        /// Filesystem (default) or Block.
        pub volume_mode: Option<Text>,
        /// Host path source.
        pub host_path: Option<serde_json::Value>,
        /// NFS source.
        pub nfs: Option<serde_json::Value>,
        /// CSI source.
        pub csi: Option<serde_json::Value>,
        /// Local source.
        pub local: Option<serde_json::Value>,
    }
}
