// deno-lint-ignore-file no-explicit-any
export type S3Client = any;
export declare const S3Client: any;
export declare const GetObjectCommand: any;
export declare const PutObjectCommand: any;
export declare const HeadObjectCommand: any;
export declare const HeadBucketCommand: any;
export declare const ListObjectsV2Command: any;
export declare const CreateMultipartUploadCommand: any;
export declare const UploadPartCommand: any;
export declare const CompleteMultipartUploadCommand: any;
export declare const AbortMultipartUploadCommand: any;
