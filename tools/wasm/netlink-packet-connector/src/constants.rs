// SPDX-License-Identifier: MIT OR Apache-2.0

//! Constants of `include/uapi/linux/connector.h`.

/// The netlink protocol number of the connector (`NETLINK_CONNECTOR`).
pub const NETLINK_CONNECTOR: isize = 11;

/// The size of `struct cn_msg`, the header in front of every payload.
pub const CN_MSG_HEADER_LEN: usize = 20;

/// The largest message the kernel accepts or sends, header included
/// (`CONNECTOR_MAX_MSG_SIZE`). The kernel drops longer ones silently.
pub const CONNECTOR_MAX_MSG_SIZE: usize = 16384;

/// The largest payload of a message.
pub const CONNECTOR_MAX_PAYLOAD_LEN: usize = CONNECTOR_MAX_MSG_SIZE - CN_MSG_HEADER_LEN;

/// Process events connector index.
pub const CN_IDX_PROC: u32 = 0x1;
/// Process events connector value.
pub const CN_VAL_PROC: u32 = 0x1;
/// CIFS connector index.
pub const CN_IDX_CIFS: u32 = 0x2;
/// CIFS connector value.
pub const CN_VAL_CIFS: u32 = 0x1;
/// w1 communication index.
pub const CN_W1_IDX: u32 = 0x3;
/// w1 communication value.
pub const CN_W1_VAL: u32 = 0x1;
/// v86d (uvesafb) index.
pub const CN_IDX_V86D: u32 = 0x4;
/// v86d (uvesafb) value.
pub const CN_VAL_V86D_UVESAFB: u32 = 0x1;
/// BlackBoard, from the TSP GPL sampling framework.
pub const CN_IDX_BB: u32 = 0x5;
/// Distributed storage index.
pub const CN_DST_IDX: u32 = 0x6;
/// Distributed storage value.
pub const CN_DST_VAL: u32 = 0x1;
/// Device mapper index.
pub const CN_IDX_DM: u32 = 0x7;
/// Device mapper userspace log value.
pub const CN_VAL_DM_USERSPACE_LOG: u32 = 0x1;
/// DRBD index.
pub const CN_IDX_DRBD: u32 = 0x8;
/// DRBD value.
pub const CN_VAL_DRBD: u32 = 0x1;
/// Hyper-V key-value pair index.
pub const CN_KVP_IDX: u32 = 0x9;
/// Hyper-V key-value pair value (queries from the kernel).
pub const CN_KVP_VAL: u32 = 0x1;
/// Hyper-V volume shadow copy index.
pub const CN_VSS_IDX: u32 = 0xA;
/// Hyper-V volume shadow copy value (queries from the kernel).
pub const CN_VSS_VAL: u32 = 0x1;
/// The highest index in use plus one: the first index free for new users.
pub const CN_NETLINK_USERS: u32 = 11;
