//! Waiting on a condition with a deadline, for the OperatorBox and pack tests: the one helper
//! every test suite shares, from testenv.

pub use testenv::eventually;
