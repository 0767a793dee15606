#include <stdio.h>
#include <time.h>
#include <stdlib.h>
static long now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1000000000L+t.tv_nsec;}
int main(int c,char**v){int secs=atoi(v[1]);long end=now()+secs*1000000000L;long last=now();long hist[6]={0};long maxg=0;long n=0;
while(1){long t=now();long g=t-last;last=t;n++;if(g>maxg)maxg=g;
 if(g>100000)hist[0]++; if(g>500000)hist[1]++; if(g>1000000)hist[2]++; if(g>2000000)hist[3]++; if(g>4000000)hist[4]++; if(g>10000000)hist[5]++;
 if(t>end)break;}
printf("gaps >0.1ms %ld >0.5ms %ld >1ms %ld >2ms %ld >4ms %ld >10ms %ld max %.2fms\n",hist[0],hist[1],hist[2],hist[3],hist[4],hist[5],maxg/1e6);}
